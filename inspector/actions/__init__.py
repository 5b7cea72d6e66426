"""Use cases: what a researcher does with a session (run, detect, import, sweep, naturalness), each written once and
called alike by the command line and the app, with typed arguments and a progress callback."""
