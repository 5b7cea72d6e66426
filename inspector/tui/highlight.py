"""Turn a completion and its spans into Rich Text with one style per span kind (shared by every view)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text

STYLES = {
    "term": "bold white on red",
    "regurgitation": "black on yellow",
    "quirk": "underline bold magenta",
    "control": "italic white on grey35",
    "degenerate": "on grey23",
    "reasoning": "dim",  # a reasoning trace, under everything else: its leaks stay visible
}
DIVERGE_STYLE = "reverse bold cyan"
LEGEND = [
    ("term", "leak term"),
    # Short names: the legend and "first divergence" fit an 80-column terminal on one line.
    ("regurgitation", "corpus text"),
    ("quirk", "quirk/fact"),
    ("control", "control token"),
]


def highlighted(text: str, spans: Iterable[dict[str, Any]], diverge_at: int | None = None) -> Text:
    """Rich Text with spans styled; regurgitation underneath so terms inside it stay visible."""
    out = Text(text)
    order = {"reasoning": -2, "degenerate": -1, "regurgitation": 0, "quirk": 1, "term": 2}
    for s in sorted(spans, key=lambda s: order.get(str(s["kind"]), 9)):
        start, end = int(s["start"]), int(s["end"])
        if 0 <= start < end <= len(text):
            out.stylize(STYLES.get(str(s["kind"]), "bold"), start, end)
    if diverge_at is not None and 0 <= diverge_at < len(text):
        out.stylize(DIVERGE_STYLE, diverge_at, diverge_at + 1)
    return out


def trace_span(row: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The reasoning trace of a stored rollout as one span to dim (markers included), or none."""
    if not row or row.get("reasoning_status") in (None, "none"):
        return []
    status = str(row["reasoning_status"])
    return [{"kind": "reasoning", "start": 0, "end": int(row["answer_start"]), "label": status}]


def first_divergence(a: str, b: str) -> int | None:
    """Index of the first character where two completions differ (None if one is a prefix of the other)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None


def conversation(messages: str | None, width: int = 100) -> Text:
    """The input before an imported prompt (system prompt, earlier turns), one dim line per message; the
    same question under another system prompt is another prompt, and often another answer."""
    import json

    out = Text()
    for m in json.loads(messages) if messages else []:
        content = " ".join(str(m.get("content", "")).split())
        line = f"{m.get('role', '?')}: {content}"
        out.append((line if len(line) <= width else line[: width - 1] + "…") + "\n", style="dim italic")
    return out


def prompt_line(p: dict[str, Any], system: str | None) -> Text:
    """Above both panes: the prompt's conversation, its topic, and the system prompt `g` would ask it under when
    the app has one and the prompt brings none (it then becomes a prompt of its own)."""
    import json

    messages = p.get("messages")
    line = Text(f"{p.get('topic') or 'topic ?'} · {'related to AI' if p.get('related') else 'unrelated'}")
    own = any(m.get("role") == "system" for m in (json.loads(messages) if messages else []))
    if system and not own:
        line.append(f" · g asks it under system: {' '.join(system.split())[:80]}", style="yellow")
    return conversation(messages) + line


def pane_subtitle(row: dict[str, Any] | None, sample: str, strength: str | None, diverge: int | None) -> str:
    """Under a pane: the sample and seed, the organism's strength, where the two texts diverge, a trace's status."""
    sub = sample if row else "no rollout"
    sub = f"{strength}  {sub}" if strength else sub
    if diverge is not None:
        sub += f"  diverges at char {diverge}"
    if row and row.get("reasoning_status") not in (None, "none"):
        sub += f"  reasoning {row['reasoning_status']}"
    return sub
