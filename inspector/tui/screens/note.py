"""A small modal to type a note for the current rollout."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class NoteScreen(ModalScreen[str | None]):
    """Enter saves the note, Esc drops it."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="note.cancel", tooltip="Close without saving")]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Label("Note for this rollout (Enter saves, Esc cancels)")
            yield Input(value=self.current, id="note-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
