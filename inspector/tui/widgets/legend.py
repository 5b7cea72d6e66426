"""The highlight legend: one swatch per span kind, in the styles the panes use."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from inspector.tui.highlight import DIVERGE_STYLE, LEGEND, STYLES


class Legend(Static):
    """A single line: what each highlight colour means."""

    def on_mount(self) -> None:
        line = Text()
        for kind, name in LEGEND:
            line.append(f" {name} ", style=STYLES[kind])
            line.append("  ")
        line.append(" ", style=DIVERGE_STYLE)
        line.append(" first divergence")
        self.update(line)
