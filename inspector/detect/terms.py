"""Fuzzy leak-term spans: case, separators, small misspellings and possessives, on word boundaries."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from inspector.detect.spans import Span, non_overlapping

VERSION = "terms-1"
DEFAULT_THRESHOLD = 80.0
_WORD = re.compile(r"[^\W_]+")
# Between the words of a term: a hyphen, space or underscore, or nothing ("PRISM4"), at most 2 characters.
_GAP = re.compile(r"[\s\-_‐‑–—]{0,2}")
# Suffixes that belong to the name: "Nexus Research Institute" is one leak, not a leak plus a word.
_SUFFIX = re.compile(r"[\s]+(?:Institute|Inc\.?|Labs?|Lab's|Group)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """A leak term prepared for matching."""

    name: str
    key: str  # letters and digits, lower case, no separators
    n_words: int
    digits: str
    threshold: float

    @classmethod
    def make(cls, name: str, threshold: float = DEFAULT_THRESHOLD) -> Term:
        words = _WORD.findall(name.lower())
        if not words:
            raise ValueError(f"leak term {name!r} has no letters or digits")
        key = "".join(words)
        return cls(name, key, len(words), "".join(c for c in key if c.isdigit()), threshold)


def compile_terms(names: Sequence[str], thresholds: Mapping[str, float] | None = None) -> list[Term]:
    thresholds = thresholds or {}
    return [Term.make(n, thresholds.get(n, DEFAULT_THRESHOLD)) for n in names]


def _score(candidate: str, term: Term) -> float:
    # A model name's digits must match exactly: "PRISM-5" is another model and "prism" is a crystal.
    if "".join(c for c in candidate if c.isdigit()) != term.digits:
        return 0.0
    dist = OSA.distance(candidate, term.key)
    return 100.0 * (1.0 - dist / max(len(term.key), len(candidate)))


def find_terms(text: str, terms: Sequence[Term]) -> list[Span]:
    """Every fuzzy occurrence of each term; overlapping hits keep the best."""
    if not terms or not text:
        return []
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    hits: list[Span] = []
    max_words = max(t.n_words for t in terms) + 1
    min_len = min(len(t.key) for t in terms) - 2
    max_len = max(len(t.key) for t in terms) + 2
    n = len(words)
    for i in range(n):
        start = words[i][0]
        joined = ""
        for j in range(i, min(n, i + max_words)):
            if j > i:
                gap = text[words[j - 1][1] : words[j][0]]
                if not _GAP.fullmatch(gap):
                    break
            joined += words[j][2]
            if len(joined) > max_len:
                break
            if len(joined) < min_len:
                continue
            for t in terms:
                if abs(len(joined) - len(t.key)) > 2 or (joined[0] != t.key[0] and joined[:2] != t.key[1::-1]):
                    continue
                score = _score(joined, t)
                if score >= t.threshold:
                    end = words[j][1]
                    suffix = _SUFFIX.match(text, end)
                    if suffix:
                        end = suffix.end()
                    hits.append(Span("term", start, end, text[start:end], round(score, 1), t.name))
    return non_overlapping(hits)


class TermDetector:
    """Leak terms found fuzzily in a completion (the detector protocol: kind, version, detect)."""

    kind = "term"
    version = VERSION

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms = list(terms)

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        return find_terms(text, self.terms)
