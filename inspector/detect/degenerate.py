"""Degenerate-text spans: loops and repetition by Gopher's quality-filter rules, text that gzip folds, control tokens.

Thresholds are the published ones of Gopher's MassiveText filter (Rae et al. 2021), not tuned here: a text is
degenerate when characters inside repeated word n-grams exceed 15% (n = 5) down to 10% (n = 10), when its most
frequent 2-, 3- or 4-gram covers more than 20%, 18% or 16% of its characters, when repeated lines are over 30% of
its lines or 20% of its characters, or when gzip shrinks it more than 2.4 times. Each rule found gives one span
over the offending region, labelled with the rule and its measured value.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter

from inspector.detect.control import PATTERN as CONTROL
from inspector.detect.spans import Span

VERSION = "degenerate-1"
DUP_NGRAM = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
TOP_NGRAM = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_LINES, DUP_LINE_CHARS = 0.30, 0.20
COMPRESSION = 2.4
# Below this many characters gzip's own header outweighs any saving, and a few repeated words are no loop.
MIN_CHARS = 200
_WORD = re.compile(r"\S+")


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]


def _duplicate_ngrams(text: str, words: list[tuple[int, int, str]]) -> list[Span]:
    """Gopher's duplicate n-gram rule: the characters of words inside a second or later occurrence of an n-gram."""
    total = sum(e - s for s, e, _ in words) or 1
    for n, limit in DUP_NGRAM.items():
        if len(words) < 2 * n:
            continue
        seen: set[tuple[str, ...]] = set()
        covered = [False] * len(words)
        for i in range(len(words) - n + 1):
            gram = tuple(w for _, _, w in words[i : i + n])
            if gram in seen:
                for j in range(i, i + n):
                    covered[j] = True
            else:
                seen.add(gram)
        chars = sum(e - s for (s, e, _), c in zip(words, covered, strict=True) if c)
        if chars / total > limit:
            first = covered.index(True)
            last = len(covered) - 1 - covered[::-1].index(True)
            start, end = words[first][0], words[last][1]
            return [Span("degenerate", start, end, text[start:end], 100.0 * chars / total, f"repeated {n}-grams")]
    return []


def _top_ngrams(text: str, words: list[tuple[int, int, str]]) -> list[Span]:
    total = sum(e - s for s, e, _ in words) or 1
    for n, limit in TOP_NGRAM.items():
        if len(words) < n + 1:
            continue
        grams = Counter(tuple(w for _, _, w in words[i : i + n]) for i in range(len(words) - n + 1))
        gram, count = grams.most_common(1)[0]
        if count < 2:
            continue
        chars = count * sum(len(w) for w in gram)
        if chars / total > limit:
            at = [i for i in range(len(words) - n + 1) if tuple(w for _, _, w in words[i : i + n]) == gram]
            start, end = words[at[0]][0], words[at[-1] + n - 1][1]
            label = f"top {n}-gram {' '.join(gram)!r}"
            return [Span("degenerate", start, end, text[start:end], 100.0 * chars / total, label)]
    return []


def _repeated_lines(text: str) -> list[Span]:
    lines = [(m.start(), m.end(), m.group().strip()) for m in re.finditer(r"[^\n]+", text)]
    lines = [x for x in lines if x[2]]
    if len(lines) < 3:
        return []
    counts = Counter(t for _, _, t in lines)
    repeats = [x for x in lines if counts[x[2]] > 1]
    if not repeats:
        return []
    by_lines = len(repeats) / len(lines)
    by_chars = sum(len(t) for _, _, t in repeats) / sum(len(t) for _, _, t in lines)
    if by_lines > DUP_LINES or by_chars > DUP_LINE_CHARS:
        start, end = repeats[0][0], repeats[-1][1]
        return [Span("degenerate", start, end, text[start:end], 100.0 * by_lines, "repeated lines")]
    return []


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(gzip.compress(raw, mtime=0))


class DegenerateDetector:
    """A completion that loops, repeats itself or writes control tokens: the text a fried model produces."""

    kind = "degenerate"
    version = VERSION

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        spans = [
            Span("degenerate", m.start(), m.end(), m.group(), 100.0, "control token") for m in CONTROL.finditer(text)
        ]
        if len(text) < MIN_CHARS:
            return spans
        words = _words(text)
        spans += _duplicate_ngrams(text, words) + _top_ngrams(text, words) + _repeated_lines(text)
        ratio = compression_ratio(text)
        if ratio > COMPRESSION:
            spans.append(Span("degenerate", 0, len(text), text, 100.0 * ratio, f"gzip ratio {ratio:.2f}"))
        return spans
