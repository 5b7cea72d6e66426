"""Help: every binding of the app and its screens, generated from the bindings themselves."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_table(groups: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> Table:
    table = Table(title="Keys (remap them with INSPECTOR_KEYMAP: binding id = keys)", expand=True)
    for col in ("where", "key", "action", "binding id", "what it does"):
        table.add_column(col)
    for where, bindings in groups:
        for b in bindings:
            key = keymap.get(b.id or "", b.key_display or b.key)
            table.add_row(where, key, b.description, b.id or "", b.tooltip)
    return table


class HelpScreen(ModalScreen[None]):
    """Esc or ? closes."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close", tooltip="Close help"),
        Binding("question_mark", "dismiss", "Close", show=False, id="help.close2", tooltip="Close help"),
    ]

    def __init__(self, groups: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.table = binding_table(groups, keymap)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self.table, id="help-table")
