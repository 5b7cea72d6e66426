"""The root of every error the user is shown: the CLI turns any of them into one line and exit status 2, the app
into one notice. The engine's and the store's errors derive from it."""


class InspectorError(Exception):
    """A user-facing error: its message is one line that says what is wrong and where."""
