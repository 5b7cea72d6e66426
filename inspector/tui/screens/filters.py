"""A modal to set the filters of the prompt list or the label queue: every choice combinable, "any" by default."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Select

from inspector.store import Filters

# Strings, not booleans: Select.BLANK is False in Textual 8, so a False value would read as "no choice".
YES_NO = [("yes", "yes"), ("no", "no")]
BOOLEAN = ("nonsequitur", "labeled", "related")


class FilterScreen(ModalScreen[Filters | None]):
    """ctrl+s applies, x clears every filter, Esc leaves them as they were."""

    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", id="filters.apply", tooltip="Apply these filters"),
        Binding("x", "clear", "Clear all", id="filters.clear", tooltip="Remove every filter"),
        Binding("escape", "dismiss_none", "Cancel", id="filters.cancel", tooltip="Keep the filters as they were"),
    ]

    def __init__(self, current: Filters, topics: list[str], runs: list[str]) -> None:
        super().__init__()
        self.current = current
        self.choices: dict[str, list[tuple[str, Any]]] = {
            "role": [("organism", "organism"), ("base", "base")],
            "kind": [
                ("leak term", "term"),
                ("regurgitation", "regurgitation"),
                ("quirk", "quirk"),
                ("control token", "control"),
                ("degenerate text", "degenerate"),
            ],
            "nonsequitur": YES_NO,
            "labeled": YES_NO,
            "label": [("non-sequitur", "nonsequitur"), ("related", "related"), ("not a leak", "none")],
            "topic": [(t, t) for t in topics],
            "related": YES_NO,
            "run": [(r, r) for r in runs],
            "trace": [
                ("broken (never closed, or nothing after)", "broken"),
                ("never closed", "unclosed"),
                ("nothing after it", "empty_answer"),
                ("closed, with an answer", "closed"),
                ("no trace", "none"),
            ],
        }

    def compose(self) -> ComposeResult:
        names = {
            "role": "model role",
            "kind": "has a span of kind",
            "nonsequitur": "non-sequitur candidate",
            "labeled": "labeled by you",
            "label": "your verdict",
            "topic": "prompt topic",
            "related": "prompt about AI/tech",
            "run": "run",
            "trace": "reasoning trace",
        }
        with Vertical(id="filters-box"):
            yield Label("Filters (ctrl+s applies, x clears all, Esc cancels); all of them must hold")
            with Grid(id="filters-grid"):
                for field, options in self.choices.items():
                    now = getattr(self.current, field)
                    if field in BOOLEAN and now is not None:
                        now = "yes" if now else "no"
                    yield Label(names[field])
                    select: Select[Any] = Select(options, prompt="any", allow_blank=True, id=f"filter-{field}")
                    if now is not None and any(v == now for _, v in options):
                        select.value = now
                    yield select

    def chosen(self) -> Filters:
        values: dict[str, Any] = {}
        for field in self.choices:
            v = self.query_one(f"#filter-{field}", Select).value
            # No choice reads as Select.NULL in Textual 8 (Select.BLANK, False, in older versions).
            if v is None or v is Select.BLANK or v is getattr(Select, "NULL", None):
                values[field] = None
            else:
                values[field] = (v == "yes") if field in BOOLEAN else v
        return replace(Filters(), **values)

    def action_apply(self) -> None:
        self.dismiss(self.chosen())

    def action_clear(self) -> None:
        self.dismiss(Filters())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
