"""The list of prompts in a session, each marked when its rollouts are flagged."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


def prompt_label(p: dict[str, Any]) -> Text:
    """A marker column, then the prompt: ◆ non-sequitur candidate, ● leak, ○ other span, blank none."""
    if p.get("n_nonsequitur"):
        mark = Text("◆ ", style="bold red")
    elif p.get("n_leak"):
        mark = Text("● ", style="red")
    elif p.get("n_flagged"):
        mark = Text("○ ", style="yellow")
    else:
        mark = Text("  ")
    return mark + Text(str(p["text"]).replace("\n", " ")[:200])


class PromptList(OptionList):
    """Prompt ids are the option ids, so a selection maps straight back to the store."""

    def load(self, prompts: list[dict[str, Any]]) -> None:
        highlighted = self.highlighted
        current = self.get_option_at_index(highlighted).id if highlighted is not None else None
        self.clear_options()
        self.add_options([Option(prompt_label(p), id=str(p["id"])) for p in prompts])
        if prompts:
            # The same prompt stays highlighted when a run adds prompts above it; else the same row.
            at = next((i for i, p in enumerate(prompts) if str(p["id"]) == current), None)
            self.highlighted = at if at is not None else min(highlighted or 0, len(prompts) - 1)
