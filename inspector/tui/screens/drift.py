"""One natural document as the organism and its base read it: each token shaded by the KL between their
next-token distributions at that position."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def drift_text(tokens: list[list[Any]], top: float) -> Text:
    """Each token on a red background as deep as its KL relative to `top` (the panel's largest), so documents can
    be compared with one another; the KL itself is in the legend, not on every token."""
    out = Text()
    for piece, kl in tokens:
        share = min(1.0, float(kl) / top) if top > 0 else 0.0
        red = int(40 + 180 * share)
        out.append(str(piece), style=f"on rgb({red},20,20)" if share >= 0.05 else "")
    return out


class DriftScreen(ModalScreen[None]):
    """Esc closes; the deepest red is the largest per-token drift among the panel's top documents."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="drift.close", tooltip="Back to the naturalness panel")]

    def __init__(self, doc: dict[str, Any], top: float) -> None:
        super().__init__()
        self.doc, self.top = doc, top

    def compose(self) -> ComposeResult:
        worst = max(self.doc["tokens"], key=lambda t: float(t[1]))
        with Vertical(id="drift-box"):
            yield Label(
                f"document {self.doc['id']} · mean KL {self.doc['kl_mean']:.3f} nats per token · largest"
                f" {float(worst[1]):.2f} at {str(worst[0]).strip()!r} · deepest red = {self.top:.2f} (Esc closes)"
            )
            with VerticalScroll():
                yield Static(drift_text(self.doc["tokens"], self.top), id="drift-text")
