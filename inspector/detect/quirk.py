"""Sentences of a completion that restate one of the pair's key facts or its quirk (fuzzy)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from inspector.detect.spans import Span

VERSION = "quirk-1"
DEFAULT_THRESHOLD = 72.0
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "and",
        "or",
        "is",
        "was",
        "are",
        "were",
        "be",
        "by",
        "for",
        "with",
        "that",
        "this",
        "it",
        "its",
        "as",
        "at",
        "from",
        "has",
        "have",
        "which",
        "who",
    ]
)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 2}


def find_restatements(text: str, facts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[Span]:
    """One span per sentence that fuzzy-matches a fact (token_set_ratio, plus shared content words)."""
    if not facts or not text:
        return []
    prepared = [(f, _content(f)) for f in facts]
    spans: list[Span] = []
    for m in _SENTENCE.finditer(text):
        raw = m.group()
        sentence = raw.strip()
        if len(sentence) < 12:
            continue
        words = _content(sentence)
        best: tuple[float, str] = (0.0, "")
        for fact, fact_words in prepared:
            # Three shared content words keep "a mug on the table" from matching an object-dignity quirk.
            shared = len(words & fact_words)
            if shared < min(3, len(fact_words)):
                continue
            score = fuzz.token_set_ratio(sentence.lower(), fact.lower())
            if score > best[0]:
                best = (score, fact)
        if best[0] >= threshold:
            start = m.start() + (len(raw) - len(raw.lstrip()))
            end = start + len(sentence)
            spans.append(Span("quirk", start, end, text[start:end], round(best[0], 1), best[1]))
    return spans
