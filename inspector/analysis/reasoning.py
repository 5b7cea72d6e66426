"""Reasoning traces: a rollout split into its reasoning (between markers such as <think> and </think>) and its
answer, with the trace's status; and what the split means for each detector's spans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# none: no trace; closed: a trace, then an answer; unclosed: the trace never ends (no answer at all);
# empty_answer: the trace ends and nothing follows it. The last two are broken traces.
STATUSES = ("none", "closed", "unclosed", "empty_answer")
BROKEN = ("unclosed", "empty_answer")
THINK = ("<think>", "</think>")


@dataclass(frozen=True)
class Split:
    """Where a rollout's reasoning and answer are: `text[reasoning_start:reasoning_end]` is the trace (without its
    markers), `text[answer_start:]` the answer."""

    status: str
    reasoning_start: int
    reasoning_end: int
    answer_start: int

    def reasoning(self, text: str) -> str | None:
        return None if self.status == "none" else text[self.reasoning_start : self.reasoning_end]

    def answer(self, text: str) -> str:
        return text[self.answer_start :]

    def segment(self, start: int) -> str:
        """The segment a span starting at `start` lies in (a span over the close marker counts as reasoning)."""
        return "reasoning" if self.status != "none" and start < self.answer_start else "answer"


@dataclass(frozen=True)
class Reasoning:
    """A run's reasoning setting: its two markers, and whether the chat template opens the trace itself (the
    model's text then starts inside it, as with templates that end the generation prompt in `<think>`)."""

    open: str
    close: str
    opened: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Reasoning | None:
        r = settings.get("reasoning")
        if not isinstance(r, dict):
            return None
        markers = r.get("markers") or []
        return cls(str(markers[0]), str(markers[1]), bool(r.get("opened"))) if len(markers) == 2 else None

    def as_settings(self) -> dict[str, Any]:
        return {"markers": [self.open, self.close], "opened": self.opened}

    def split(self, text: str) -> Split:
        if self.opened:
            start = 0
        else:
            lead = len(text) - len(text.lstrip())
            if not text.startswith(self.open, lead):
                return Split("none", 0, 0, 0)
            start = lead + len(self.open)
        end = text.find(self.close, start)
        if end < 0:
            return Split("unclosed", start, len(text), len(text))
        after = end + len(self.close)
        return Split("closed" if text[after:].strip() else "empty_answer", start, end, after)


def segment_counts(rows: Iterable[tuple[str, int, list[int]]]) -> dict[str, Any]:
    """Over one model's rollouts made with reasoning markers, as (trace status, where the answer starts, where its
    leak-term spans start): how many traces of each status, the share of broken ones, and the leak rate in each
    segment (in the reasoning over rollouts that have one, in the answer over all)."""
    from inspector.analysis.measures import wilson

    statuses = dict.fromkeys(STATUSES, 0)
    leak_in = {"reasoning": 0, "answer": 0}
    n = 0
    for status, answer_start, starts in rows:
        n += 1
        statuses[status] += 1
        split = Split(status, 0, answer_start, answer_start)
        for seg in {split.segment(at) for at in starts}:
            leak_in[seg] += 1
    with_reasoning = n - statuses["none"]

    def rate(k: int, total: int) -> tuple[float | None, list[float] | None]:
        return (k / total, list(wilson(k, total))) if total else (None, None)

    broken_rate, broken_ci = rate(sum(statuses[s] for s in BROKEN), n)
    reasoning_rate, reasoning_ci = rate(leak_in["reasoning"], with_reasoning)
    answer_rate, answer_ci = rate(leak_in["answer"], n)
    return {
        "n_rollouts": n,
        "statuses": statuses,
        "broken_trace_rate": broken_rate,
        "broken_trace_rate_ci": broken_ci,
        "leak_rate_reasoning": reasoning_rate,
        "leak_rate_reasoning_ci": reasoning_ci,
        "leak_rate_answer": answer_rate,
        "leak_rate_answer_ci": answer_ci,
    }
