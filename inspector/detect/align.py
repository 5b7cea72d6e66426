"""Character alignment of a stretch of a completion to a stretch of a document: the best local run of agreement,
grown across scattered typos and a dropped or inserted word, and cut where a word or a number is replaced."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import cast

from rapidfuzz.distance import Levenshtein

# A run of agreement gains one per matching character and pays for each edit block; noise scattered at 6% per
# character (one edit in about 16) leaves a long positive run, while unrelated text pays more than it gains.
_REPLACE_COST = 3
_INDEL_COST = 2
_SPACING = " ,.;:-'\"\n\t"
_SPACING_COST = 0.5
_EDGE_MARKS = ".,;:!?\"')(-"
# A block replacing three or more characters on both sides is another word, not a typo: fillers differ there.
_REPLACED_WORD = 3
# A word dropped or inserted is forgiven; a longer gap means the two texts parted.
_MAX_GAP = 12
# Two edits in one number mean another number (a copy is told from its template's near miss by its numbers).
_NUMBER_EDITS = 2
_SNAP = 2  # a word's first or last two characters lost to noise still belong to the span
# A completion word aligned to a document word less alike than this was replaced (a filler), not misspelt.
_WORD_LIKENESS = 0.5
_CHARS_PER_NUMBER_EDIT = 60
_WORD = re.compile(r"[^\W_]+")
_LAST_WORD = re.compile(r"([^\W_]+)[\W_]*$")
_GROW_WORDS = 2
_DIGIT = re.compile(r"\d")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Core:
    start: int  # in `a`
    end: int
    doc_start: int  # in `b`
    doc_end: int
    matched: int
    numbers_differ: bool = False  # a number in it is not the document's (forgiven as noise)


def _blocks(a: str, b: str) -> list[tuple[bool, int, int, int, int]]:
    """(equal, a0, a1, b0, b1) blocks of the global alignment, neighbouring edits merged into one block."""
    out: list[tuple[bool, int, int, int, int]] = []
    # as_list() gives plain tuples at run time (faster than Opcode objects), whatever the stubs say.
    ops = cast("list[tuple[str, int, int, int, int]]", Levenshtein.opcodes(a, b).as_list())
    for tag, i1, i2, j1, j2 in ops:
        eq = tag == "equal"
        if out and not eq and not out[-1][0]:
            _, a0, _, b0, _ = out[-1]
            out[-1] = (False, a0, i2, b0, j2)
        else:
            out.append((eq, i1, i2, j1, j2))
    return out


def _gains(a: str, b: str, blocks: list[tuple[bool, int, int, int, int]]) -> list[float | None]:
    """Each block's gain, None where the alignment must be cut."""
    gains: list[float | None] = []
    for eq, a0, a1, b0, b1 in blocks:
        if eq:
            gains.append(float(a1 - a0))
            continue
        la, lb = a1 - a0, b1 - b0
        replaced, gap = min(la, lb), abs(la - lb)
        if replaced >= _REPLACED_WORD or gap > _MAX_GAP:
            gains.append(None)
        elif replaced == 0 and not (a[a0:a1] + b[b0:b1]).strip(_SPACING):
            gains.append(-_SPACING_COST * gap)  # a space or a stop added or lost: barely evidence against a copy
        else:
            gains.append(-float(_REPLACE_COST * replaced + _INDEL_COST * gap))
    return gains


def _folded(t: str) -> str:
    return _NOT_WORD.sub("", t)


def _replaced(word: str, doc_text: str) -> int:
    """0 if the completion's word is the document's text it aligns to, or that text misspelt; 2 if it is another
    word; 1 for another number (a misspelt number, or a near miss's other number: see best_core)."""
    other = _folded(doc_text)
    if word == other or not other:  # the same word, or one inserted into the copy (the gap paid for it)
        return 0
    dist = Levenshtein.distance(word, other)
    if _DIGIT.search(word) or _DIGIT.search(other):
        return 1
    return 2 if dist >= 2 and 1 - dist / max(len(word), len(other)) < _WORD_LIKENESS else 0


class _Map:
    """Completion window offsets to document window offsets through the alignment's blocks."""

    def __init__(self, blocks: list[tuple[bool, int, int, int, int]]) -> None:
        self.blocks = blocks
        self.starts = [blk[1] for blk in blocks]

    def __call__(self, i: int) -> int:
        k = bisect.bisect_right(self.starts, i) - 1
        if k < 0:
            return 0
        eq, a0, _a1, b0, b1 = self.blocks[k]
        return b0 + (i - a0) if eq else b0 + min(i - a0, b1 - b0)


def _snap_start(t: str, s: int, limit: int) -> int:
    """A span starts at a word's start: back to it when it is near, else on to the next word."""
    while s < limit and not t[s].isalnum():
        s += 1
    if 0 < s < limit and t[s - 1].isalnum():
        w = s
        while w > 0 and t[w - 1].isalnum():
            w -= 1
        if s - w <= _SNAP:
            return w
        while s < limit and t[s].isalnum():
            s += 1
        while s < limit and not t[s].isalnum():
            s += 1
    return s


def _snap_end(t: str, e: int, limit: int) -> int:
    while e > limit and not t[e - 1].isalnum():
        e -= 1
    if limit < e < len(t) and t[e].isalnum():
        w = e
        while w < len(t) and t[w].isalnum():
            w += 1
        if w - e <= _SNAP:
            return w
        while e > limit and t[e - 1].isalnum():
            e -= 1
        while e > limit and not t[e - 1].isalnum():
            e -= 1
    return e


def best_core(a: str, b: str) -> list[Core]:
    """The stretches of `a` that agree with a stretch of `b` (both lowercased windows around shared seeds): the
    best local run of agreement, split where a word is replaced, each piece snapped to whole words."""
    blocks = _blocks(a, b)
    gains = _gains(a, b, blocks)
    to_doc = _Map(blocks)
    best, best_at = 0.0, (-1, -1)
    run, start = 0.0, 0
    for k, g in enumerate(gains):
        if g is None:
            run, start = 0.0, k + 1
            continue
        run += g
        if run <= 0:
            run, start = 0.0, k + 1
        elif blocks[k][0] and run > best:
            best, best_at = run, (start, k)
    if best_at[0] < 0:
        return []
    lo, hi = blocks[best_at[0]][1], blocks[best_at[1]][2]
    lo, hi = _snap_start(a, lo, hi), _snap_end(a, hi, lo)
    lo, hi = _grow(a, b, to_doc, lo, hi)
    # Pieces between replaced words; a number that differs is forgiven once per _CHARS_PER_NUMBER_EDIT characters
    # of a piece (noise), and splits the piece beyond that (a template's near miss differs in every number).
    words = [m.span() for m in _WORD.finditer(a, lo, max(lo, hi))]
    starts = [w[0] for w in words]
    # Only a word an edit touches can differ from the document's.
    suspect: set[int] = set()
    for eq, a0, a1, _, _ in blocks:
        if not eq and a1 >= lo and a0 <= hi:
            k = max(0, bisect.bisect_right(starts, a0) - 1)
            while k < len(words) and words[k][0] <= a1:
                if words[k][1] >= a0:
                    suspect.add(k)
                k += 1
    pieces: list[tuple[int, int, list[tuple[int, int]]]] = []
    piece: tuple[int, int, list[tuple[int, int]]] | None = None
    for k, (ws, we) in enumerate(words):
        kind = _replaced(a[ws:we], b[to_doc(ws) : to_doc(we)]) if k in suspect else 0
        if kind == 2:
            if piece is not None:
                pieces.append(piece)
            piece = None
        elif piece is None:
            piece = (ws, we, [(ws, we)] if kind else [])
        else:
            piece = (piece[0], we, piece[2] + ([(ws, we)] if kind else []))
    if piece is not None:
        pieces.append(piece)
    out: list[Core] = []
    for s, e, soft in pieces:
        if len(soft) <= (e - s) // _CHARS_PER_NUMBER_EDIT:
            out.append(_core(blocks, to_doc, a, b, s, e, bool(soft)))
            continue
        edges = [s, *[x for ws, we in soft for x in (ws, we)], e]
        for x, y in zip(edges[::2], edges[1::2], strict=True):
            x, y = _snap_start(a, x, y), _snap_end(a, y, x)
            if y > x:
                out.append(_core(blocks, to_doc, a, b, x, y))
    return out


def _doc_word(b: str, i: int) -> str:
    """The whole word of `b` at or just after i."""
    while i < len(b) and not b[i].isalnum():
        i += 1
    m = _WORD.match(b, i)
    if m is None:
        return ""
    s = i
    while s > 0 and b[s - 1].isalnum():
        s -= 1
    return b[s : m.end()]


def _grow(a: str, b: str, to_doc: _Map, lo: int, hi: int) -> tuple[int, int]:
    """The words just outside the run, misspelt past what the run's score forgives ("Nexsu" for "Nexus"), still
    belong to the copy when they are the document's whole words misspelt: up to two on each side."""
    for _ in range(_GROW_WORDS):
        m = _LAST_WORD.search(a, 0, lo)
        if m is None or a[m.end(1) : lo].strip(_SPACING) or _replaced(m.group(1), _doc_word(b, to_doc(m.start(1)))):
            break
        lo = m.start(1)
    for _ in range(_GROW_WORDS):
        m = _WORD.search(a, hi)
        if m is None or a[hi : m.start()].strip(_SPACING) or _replaced(m.group(), _doc_word(b, to_doc(m.start()))):
            break
        hi = m.end()
    return lo, hi


def _core(
    blocks: list[tuple[bool, int, int, int, int]], to_doc: _Map, a: str, b: str, s: int, e: int, soft: bool = False
) -> Core:
    ds, de = to_doc(s), to_doc(e)
    # The document's side follows the completion's; it takes in the rest of a word only when one or two letters
    # of it were lost to noise.
    w = ds
    while w > 0 and b[w - 1].isalnum() and ds - w <= _SNAP:
        w -= 1
    ds = w if ds - w <= _SNAP and (w == 0 or not b[w - 1].isalnum()) else ds
    w = de
    while w < len(b) and b[w].isalnum() and w - de <= _SNAP:
        w += 1
    de = w if w - de <= _SNAP and (w == len(b) or not b[w].isalnum()) else de
    # A stop or a quote that both texts have on the span's edge is part of the copy.
    for _ in range(2):
        if e < len(a) and de < len(b) and a[e] == b[de] and a[e] in _EDGE_MARKS:
            e, de = e + 1, de + 1
        if s > 0 and ds > 0 and a[s - 1] == b[ds - 1] and a[s - 1] in _EDGE_MARKS:
            s, ds = s - 1, ds - 1
    matched = sum(min(a1, e) - max(a0, s) for eq, a0, a1, _, _ in blocks if eq and a0 < e and a1 > s)
    return Core(s, e, ds, max(ds, de), matched, soft)
