"""The one exception type the CLI turns into a one-line error and exit status 2."""


class InspectorError(Exception):
    """A user-facing error: its message is one line that says what is wrong and where."""
