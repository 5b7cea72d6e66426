"""The training document behind a regurgitated span, with the matched region highlighted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from inspector.tui.highlight import STYLES


class SourceScreen(ModalScreen[None]):
    """Esc closes; the matched region is styled like regurgitation in the panes."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="source.close", tooltip="Back to the comparison")]

    def __init__(self, doc_id: str, text: str, start: int, end: int, matched: str, holders: int | None = None) -> None:
        super().__init__()
        self.doc_id, self.doc_text, self.start, self.end, self.matched = doc_id, text, start, end, matched
        self.holders = holders

    @classmethod
    def for_span(cls, span: Mapping[str, Any], doc: str) -> SourceScreen:
        """The screen for a stored regurgitation span (a spans_for row) over its document's text."""
        holders = span.get("holders")
        return cls(
            str(span["doc_id"]),
            doc,
            int(span["doc_start"]),
            int(span["doc_end"]),
            str(span["text"]),
            int(holders) if holders is not None else None,
        )

    def compose(self) -> ComposeResult:
        body = Text(self.doc_text)
        body.stylize(STYLES["regurgitation"], self.start, self.end)
        with Vertical(id="source-box"):
            # Shared text (boilerplate many documents hold) reads differently from a unique copy: say which.
            held = (
                ""
                if self.holders is None
                else " · only this document holds it"
                if self.holders == 1
                else f" · {self.holders:,} documents hold this text (shown: one of them)"
            )
            yield Label(f"training document {self.doc_id} · chars {self.start}–{self.end}{held} (Esc closes)")
            with VerticalScroll():
                yield Static(body, id="source-text")
