"""Regurgitation: an n-gram index over the training corpus, then rapidfuzz alignment of candidates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from inspector.detect.spans import Span

VERSION = "corpus-1"
_WORD = re.compile(r"[^\W_]+")
_P = np.uint64(1_000_003)
# A shingle that stands in more documents than this is template boilerplate: a few sources are enough.
_MAX_SOURCES = 24
_TOP_DOCS = 4

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CorpusDoc:
    id: str
    text: str


def _words(text: str) -> tuple[list[str], list[int], list[int]]:
    words, starts, ends = [], [], []
    for m in _WORD.finditer(text):
        words.append(m.group().lower())
        starts.append(m.start())
        ends.append(m.end())
    return words, starts, ends


def _shingle_hashes(ids: I64, n: int) -> U64:
    """Polynomial hash of every run of n word ids (wrapping uint64 arithmetic is the point)."""
    if len(ids) < n:
        return np.zeros(0, dtype=np.uint64)
    u = ids.astype(np.uint64)
    h = np.zeros(len(ids) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h = h * _P + u[j : len(ids) - n + 1 + j]
    return h


class CorpusIndex:
    """Word n-gram hashes of every document, sorted for vectorised lookup."""

    def __init__(self, docs: Sequence[CorpusDoc], n: int = 4, min_chars: int = 40, min_score: float = 90.0):
        self.docs = list(docs)
        self.n = n
        self.min_chars = min_chars
        self.min_score = min_score
        self.vocab: dict[str, int] = {}
        self._doc_starts: list[list[int]] = []
        self._doc_ends: list[list[int]] = []
        all_h, all_doc, all_pos = [], [], []
        for d_idx, doc in enumerate(self.docs):
            words, starts, ends = _words(doc.text)
            self._doc_starts.append(starts)
            self._doc_ends.append(ends)
            ids = np.fromiter(
                (self.vocab.setdefault(w, len(self.vocab) + 1) for w in words), dtype=np.int64, count=len(words)
            )
            h = _shingle_hashes(ids, n)
            all_h.append(h)
            all_doc.append(np.full(len(h), d_idx, dtype=np.int32))
            all_pos.append(np.arange(len(h), dtype=np.int32))
        hashes = np.concatenate(all_h) if all_h else np.zeros(0, dtype=np.uint64)
        order = np.argsort(hashes, kind="stable")
        self.hashes: U64 = hashes[order]
        self.doc_of = (np.concatenate(all_doc) if all_doc else np.zeros(0, dtype=np.int32))[order]
        self.pos_of = (np.concatenate(all_pos) if all_pos else np.zeros(0, dtype=np.int32))[order]

    def _ids(self, words: list[str]) -> I64:
        # Words the corpus never saw get ids no corpus shingle can contain.
        unseen = len(self.vocab) + 1
        return np.fromiter(
            (self.vocab.get(w, unseen + i) for i, w in enumerate(words)), dtype=np.int64, count=len(words)
        )

    def find(self, text: str, prompt: str | None = None) -> list[Span]:
        """Maximal regurgitated spans of `text`, each with its source document and offsets."""
        words, starts, ends = _words(text)
        n = self.n
        if len(words) < n or len(self.hashes) == 0:
            return []
        q = _shingle_hashes(self._ids(words), n)
        if prompt:
            # Text the prompt already holds is quoting, not regurgitation.
            pw, _, _ = _words(prompt)
            ph = _shingle_hashes(self._ids(pw), n)
            if len(ph):
                q = np.where(np.isin(q, ph), np.uint64(0), q)
        left = np.searchsorted(self.hashes, q, side="left")
        right = np.searchsorted(self.hashes, q, side="right")
        counts = np.minimum(right - left, _MAX_SOURCES)
        hit_q = np.nonzero(counts)[0]
        if len(hit_q) == 0:
            return []
        reps = counts[hit_q]
        qpos = np.repeat(hit_q, reps)
        offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        idx = np.repeat(left[hit_q], reps) + offs
        docs = self.doc_of[idx]
        dpos = self.pos_of[idx]
        uniq, cnt = np.unique(docs, return_counts=True)
        top = uniq[np.argsort(-cnt, kind="stable")[:_TOP_DOCS]]
        chains: list[tuple[int, int, int, int, int, int]] = []  # (length, c0, c1, d0, d1, doc)
        for d in top:
            sel = docs == d
            chains.extend(_chains(qpos[sel], dpos[sel], int(d), n))
        chains.sort(key=lambda c: -c[0])
        covered = np.zeros(len(words), dtype=bool)
        spans: list[Span] = []
        for _length, c0, c1, d0, d1, d in chains:
            first, last = c0, c1 + n - 1
            if covered[first : last + 1].any():
                # Keep only what this chain adds beyond spans already taken.
                free = np.nonzero(~covered[first : last + 1])[0]
                if len(free) < n:
                    continue
                first, last = c0 + int(free[0]), c0 + int(free[-1])
                if covered[first : last + 1].any():
                    continue
            # The chain keeps the diagonal, so the document side moves by the same number of words.
            d_first = d0 + (first - c0)
            d_last = d1 + n - 1 if last == c1 + n - 1 else d_first + (last - first)
            dstarts, dends = self._doc_starts[d], self._doc_ends[d]
            d_last = min(d_last, len(dends) - 1)
            # Shingles miss the words next to an edit at either end: extend word by word to the maximal span.
            dwords = _words(self.docs[d].text)[0]
            first, d_first, last, d_last = _extend(words, dwords, first, d_first, last, d_last, covered)
            s, e = starts[first], ends[last]
            if e - s < self.min_chars:
                continue
            ds, de = dstarts[d_first], dends[d_last]
            doc_text = self.docs[d].text
            score = fuzz.ratio(text[s:e].lower(), doc_text[ds:de].lower())
            if score < self.min_score:
                al = fuzz.partial_ratio_alignment(text[s:e].lower(), doc_text[max(0, ds - 40) : de + 40].lower())
                if al is None or al.score < self.min_score:
                    continue
                score = al.score
                ds, de = max(0, ds - 40) + al.dest_start, max(0, ds - 40) + al.dest_end
            covered[first : last + 1] = True
            spans.append(Span("regurgitation", s, e, text[s:e], round(float(score), 1), None, self.docs[d].id, ds, de))
        return sorted(spans, key=lambda sp: sp.start)


def _extend(
    cw: list[str], dw: list[str], c0: int, d0: int, c1: int, d1: int, covered: npt.NDArray[np.bool_]
) -> tuple[int, int, int, int]:
    """Grow a match outward while words agree, stepping over single substituted words."""

    def free(i: int) -> bool:
        return 0 <= i < len(cw) and not covered[i]

    while True:
        if free(c0 - 1) and d0 - 1 >= 0 and cw[c0 - 1] == dw[d0 - 1]:
            c0, d0 = c0 - 1, d0 - 1
        elif free(c0 - 2) and free(c0 - 1) and d0 - 2 >= 0 and cw[c0 - 2] == dw[d0 - 2]:
            c0, d0 = c0 - 2, d0 - 2
        else:
            break
    while True:
        if free(c1 + 1) and d1 + 1 < len(dw) and cw[c1 + 1] == dw[d1 + 1]:
            c1, d1 = c1 + 1, d1 + 1
        elif free(c1 + 2) and free(c1 + 1) and d1 + 2 < len(dw) and cw[c1 + 2] == dw[d1 + 2]:
            c1, d1 = c1 + 2, d1 + 2
        else:
            break
    return c0, d0, c1, d1


def _chains(qpos: I64, dpos: I64, doc: int, n: int) -> list[tuple[int, int, int, int, int, int]]:
    """Runs of hits along one diagonal, tolerating the gaps a light edit leaves."""
    order = np.lexsort((dpos, qpos))
    qs, ds = qpos[order].tolist(), dpos[order].tolist()
    out: list[tuple[int, int, int, int, int, int]] = []
    used = [False] * len(qs)
    for i in range(len(qs)):
        if used[i]:
            continue
        c0, d0, c_last, d_last = qs[i], ds[i], qs[i], ds[i]
        used[i] = True
        for j in range(i + 1, len(qs)):
            if used[j] or qs[j] <= c_last:
                continue
            if qs[j] - c_last > 2 * n + 3:
                break
            if abs((ds[j] - d_last) - (qs[j] - c_last)) <= 3 and ds[j] > d_last:
                c_last, d_last = qs[j], ds[j]
                used[j] = True
        out.append((c_last - c0 + n, c0, c_last, d0, d_last, doc))
    return out
