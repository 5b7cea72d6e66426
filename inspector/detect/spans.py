"""The span every detector returns (Python string offsets into the completion, end exclusive), and the small
protocol every detector follows: a new detector is one class with a kind, a version and detect()."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Span:
    """A flagged stretch of a completion; `text == completion[start:end]`."""

    kind: str  # "term", "regurgitation" or "quirk"
    start: int
    end: int
    text: str
    score: float
    label: str | None = None  # the term or key fact matched
    doc_id: str | None = None
    doc_start: int | None = None
    doc_end: int | None = None
    holders: int | None = None  # regurgitation: how many corpus documents hold the matched text

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def non_overlapping(spans: Iterable[Span]) -> list[Span]:
    """Keep the best-scoring (then longest) spans so that no two overlap; sorted by start."""
    ranked = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start))
    kept: list[Span] = []
    for s in ranked:
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


class Detector(Protocol):
    """One kind of span. A new version replaces the spans of its kind on re-detection; rates count a rollout as
    measured for a kind only when a detector of that kind looked at it."""

    kind: str
    version: str

    def detect(self, text: str, prompt: str | None = None) -> list[Span]: ...
