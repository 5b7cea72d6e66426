"""The app's screens by name, in the order of their keys (F2 on): the command line's --screen choices without
importing Textual, and the app's modes."""

SCREENS = ("compare", "label", "summary", "sessions", "naturalness", "sweep")
