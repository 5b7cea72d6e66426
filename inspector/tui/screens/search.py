"""Search prompts and completions (substring or regular expression); Enter on a result opens it in Compare."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from inspector.store import Store, StoreError


def _snippet(text: str, pattern: re.Pattern[str], width: int = 110) -> Text:
    """The text around the first match, the match highlighted."""
    flat = " ".join(text.split())
    m = pattern.search(flat)
    if m is None:
        return Text(flat[:width])
    start = max(0, m.start() - 30)
    piece = flat[start : start + width]
    out = Text(("…" if start else "") + piece)
    off = 1 if start else 0
    for hit in pattern.finditer(piece):
        out.stylize("bold black on yellow", hit.start() + off, hit.end() + off)
    return out


class SearchScreen(ModalScreen[tuple[str, int] | None]):
    """Enter in the box searches (a DuckDB query over the whole session); ctrl+r switches to regular expressions.
    The result is (prompt id, sample) for Compare."""

    BINDINGS = [
        Binding("ctrl+r", "toggle_regex", "Regex", id="search.regex", tooltip="Substring or regular expression"),
        Binding("escape", "dismiss_none", "Close", id="search.close", tooltip="Back without opening anything"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.regex = False
        self.results: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Label(self._title(), id="search-title")
            yield Input(placeholder="search prompts and completions, Enter", id="search-input")
            yield OptionList(id="search-results")

    def _title(self) -> str:
        mode = "regular expression" if self.regex else "substring"
        return f"Search ({mode}, case-insensitive; ctrl+r switches; Enter on a result opens it in Compare)"

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex
        self.query_one("#search-title", Label).update(self._title())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self._search(event.value, self.regex)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, pattern: str, regex: bool) -> None:
        try:
            rows = self.store.search(pattern, regex)
            error = None
        except StoreError as e:
            rows, error = [], str(e)
        self.app.call_from_thread(self._show, pattern, regex, rows, error)

    def _show(self, pattern: str, regex: bool, rows: list[dict[str, Any]], error: str | None) -> None:
        results = self.query_one("#search-results", OptionList)
        results.clear_options()
        self.results = rows
        if error:
            self.notify(error, severity="error")
            return
        try:
            rx = re.compile(pattern if regex else re.escape(pattern), re.IGNORECASE)
        except re.error:
            rx = re.compile(re.escape(pattern), re.IGNORECASE)  # RE2 and Python differ at the edges
        for i, r in enumerate(rows):
            head = Text(f"{r['role']:<8} s{int(r['sample_index']) + 1}  ", style="dim")
            where = r["text"] if rx.search(" ".join(str(r["text"]).split())) else r["prompt"]
            label = head + Text(str(r["prompt"])[:50] + " │ ", style="bold") + _snippet(str(where), rx)
            results.add_option(Option(label, id=str(i)))
        self.notify(
            f"{len(rows)} matching rollouts" + (" (the first 200 found)" if len(rows) >= 200 else ""), timeout=2
        )
        if rows:
            results.focus()
            results.highlighted = 0

    @on(OptionList.OptionSelected, "#search-results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        r = self.results[int(event.option.id or 0)]
        self.dismiss((str(r["prompt_id"]), int(r["sample_index"])))
