"""A pane that shows one model's completion, streaming token by token, then with highlighted spans."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from inspector.tui.highlight import highlighted


class CompletionPane(VerticalScroll):
    """Organism or base: a title with seed and state, and the text."""

    def __init__(self, role: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role = role
        self.text = ""
        self.spans: list[dict[str, Any]] = []
        self.rollout_id: int | None = None
        self.border_title = role
        self._body = Static("", classes="completion-text", markup=False)

    def compose(self) -> ComposeResult:
        yield self._body

    def clear(self, subtitle: str = "") -> None:
        self.text, self.spans, self.rollout_id = "", [], None
        self.border_subtitle = subtitle
        self._body.update("")

    def append(self, piece: str) -> None:
        """Streaming: plain text as it arrives (highlights come once the completion is whole)."""
        self.text += piece
        self._body.update(Text(self.text))
        self.scroll_end(animate=False)

    def show(
        self,
        text: str,
        spans: list[dict[str, Any]],
        subtitle: str,
        diverge_at: int | None = None,
        rollout_id: int | None = None,
    ) -> None:
        self.text, self.spans, self.rollout_id = text, spans, rollout_id
        self.border_subtitle = subtitle
        self._body.update(
            highlighted(text, spans, diverge_at) if text else Text("(no rollout yet: press g)", style="dim")
        )
