"""Whose text a found span is: the documents that hold it, a shared span given to the holder the copy goes on in,
and neighbouring spans one document holds one after the other joined into one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from inspector.detect.seeds import EVERY, I64, U64, chosen, kgram_hashes
from inspector.detect.spans import Span

_HOLDER_SEEDS = 8  # a matched text's rarest seeds, whose holders are intersected to count its holders
_LOOK = 60  # folded characters past a shared span's ends whose seeds pick the holder the copy goes on in
_LOOK_POSTINGS = 5_000  # ...seeds held more often than this say little about which holder
_LOOK_SEEDS = 12  # ...and the rarest this many of them are asked
_JOIN_GAP = 80  # neighbouring spans at most this far apart in the completion may be one copy
_JOIN_SHIFT = 6  # ...if the document has them as far apart, give or take this
_JOIN_TRIES = 32  # common holders of two neighbours tried as the source of both


@dataclass(frozen=True)
class Found:
    """A stretch of the completion one document explains."""

    start: int
    end: int
    doc: int
    doc_start: int
    doc_end: int
    score: float
    matched: int
    verbatim: bool
    numbers_differ: bool = False


@dataclass(frozen=True)
class Query:
    """A completion as find() saw it: its seeds' folded positions and postings, for looking past a found span."""

    text: str
    low: str
    qpos: I64
    off: I64
    left: I64
    count: I64


class Sources:
    """The corpus index's part that names sources and counts holders (CorpusIndex is the rest)."""

    # What CorpusIndex provides.
    n: int
    min_score: float
    hashes: U64
    doc_of: npt.NDArray[np.int32]
    folded: str
    folded_at: I64
    _holders: dict[tuple[int, int, int], npt.NDArray[np.int32]]

    def _doc(self, d: int) -> tuple[str, I64]:
        raise NotImplementedError

    def _align(self, low: str, doc_low: str, q0: int, q1: int, d0: int, d1: int, d: int) -> list[Found]:
        raise NotImplementedError

    def _doc_id(self, d: int) -> str:
        raise NotImplementedError

    def _extend(self, query: Query, f: Found, held: npt.NDArray[np.int32]) -> Found | None:
        """A span whose text many documents hold, where the completion goes on: the holder whose text goes on
        as the completion does (most seeds of the completion's next and previous characters) is its source, and
        the span grows to what that holder explains. The seeds' listed holders were capped, so this is where a
        unique document holding a run of shared sentences is found."""
        lo = int(np.searchsorted(query.off, f.start))
        hi = int(np.searchsorted(query.off, f.end))
        near = (
            (
                ((query.qpos >= lo - _LOOK) & (query.qpos < lo - self.n // 2))
                | ((query.qpos >= hi - self.n // 2) & (query.qpos < hi + _LOOK))
            )
            & (query.count > 0)
            & (query.count <= _LOOK_POSTINGS)
        )
        at = np.nonzero(near)[0]
        if len(at) < 2:
            return None
        votes = np.zeros(len(held), dtype=np.int64)
        for i in at[np.argsort(query.count[at], kind="stable")[:_LOOK_SEEDS]].tolist():
            votes += self._listed(held, int(query.left[i]), int(query.count[i]))
        best_at = int(np.argmax(votes))
        c = int(held[best_at])
        if votes[best_at] < 2 or c == f.doc:
            return None
        doc_low, _ = self._doc(c)
        p = doc_low.find(self._doc(f.doc)[0][f.doc_start : f.doc_end])
        if p < 0:
            return None
        got = self._align(query.low, doc_low, f.start, f.end, p, p + (f.doc_end - f.doc_start), c)
        best = max(got, key=lambda g: g.matched, default=None)
        if best is None or best.start > f.start + 2 or best.end < f.end - 2 or best.end - best.start <= f.end - f.start:
            return None
        return best

    def _merge(self, query: Query, chosen: list[Found], found: list[Found]) -> list[Span]:
        """One copied stretch is one span: neighbours a document holds one after the other (an edit cut the
        alignment between them, or each was found through another holder of a shared sentence) become one,
        from that document, if the whole still scores. The candidates not chosen for a stretch are tried too:
        the one explaining most of a stretch alone may be a document that does not go on as the copy does."""
        text = query.text
        out: list[tuple[Found, npt.NDArray[np.int32]]] = []
        for f in chosen:
            held = self.holder_docs(f.doc, f.doc_start, f.doc_end)
            if len(held) > 1:
                grown = self._extend(query, f, held)
                if grown is not None and not any(k.start < grown.end and grown.start < k.end for k, _ in out):
                    f, held = grown, self.holder_docs(grown.doc, grown.doc_start, grown.doc_end)
            if out and 0 <= f.start - out[-1][0].end <= _JOIN_GAP:
                joined = self._join_any(text, out[-1], (f, held), found)
                if joined is not None:
                    out[-1] = joined
                    continue
            out.append((f, held))
        return [
            Span(
                "regurgitation",
                f.start,
                f.end,
                text[f.start : f.end],
                f.score,
                None,
                self._doc_id(f.doc),
                f.doc_start,
                f.doc_end,
                max(1, len(held)),
            )
            for f, held in out
        ]

    def _join_any(
        self,
        text: str,
        a: tuple[Found, npt.NDArray[np.int32]],
        b: tuple[Found, npt.NDArray[np.int32]],
        found: list[Found],
    ) -> tuple[Found, npt.NDArray[np.int32]] | None:
        def others(f: Found) -> list[tuple[Found, npt.NDArray[np.int32]]]:
            texts = {self._doc(f.doc)[0][f.doc_start : f.doc_end]}
            out: list[tuple[Found, npt.NDArray[np.int32]]] = []
            for g in found:
                if abs(g.start - f.start) <= _JOIN_SHIFT and abs(g.end - f.end) <= _JOIN_GAP and len(out) < 3:
                    src = self._doc(g.doc)[0][g.doc_start : g.doc_end]
                    if src not in texts:
                        texts.add(src)
                        out.append((g, self.holder_docs(g.doc, g.doc_start, g.doc_end)))
            return out

        joined = self._join(text, a[0], b[0], a[1], b[1])
        if joined is not None:
            return joined
        for i, x in enumerate([a, *others(a[0])]):
            for j, y in enumerate([b, *others(b[0])]):
                if (i or j) and x[0].end <= y[0].start:
                    joined = self._join(text, x[0], y[0], x[1], y[1])
                    if joined is not None:
                        return joined
        return None

    def _join(
        self, text: str, a: Found, b: Found, held_a: npt.NDArray[np.int32], held_b: npt.NDArray[np.int32]
    ) -> tuple[Found, npt.NDArray[np.int32]] | None:
        both = [a.doc] if a.doc == b.doc else np.intersect1d(held_a, held_b)[:_JOIN_TRIES].tolist()
        src_a, src_b = self._doc(a.doc)[0][a.doc_start : a.doc_end], self._doc(b.doc)[0][b.doc_start : b.doc_end]
        for c in both:
            doc_low, _ = self._doc(c)
            p = a.doc_start if c == a.doc else doc_low.find(src_a)
            q = b.doc_start if c == b.doc else doc_low.find(src_b, max(0, p))
            if p < 0 or q < 0 or abs((q - p - len(src_a)) - (b.start - a.end)) > _JOIN_SHIFT:
                continue
            end = q + len(src_b)
            score = fuzz.ratio(text[a.start : b.end].lower(), doc_low[p:end])
            if score >= self.min_score:
                verbatim = text[a.start : b.end].lower() == doc_low[p:end]
                joined = Found(a.start, b.end, c, p, end, round(float(score), 1), a.matched + b.matched, verbatim)
                return joined, self.holder_docs(c, p, end)
        return None

    def holder_docs(self, d: int, start: int, end: int) -> npt.NDArray[np.int32]:
        """The documents holding the text of document d between start and end: those listing every one of its
        rarest seeds (a sentence shared by many documents has them all, a unique copy only d)."""
        key = (d, start, end)
        got = self._holders.get(key)
        if got is None:
            if len(self._holders) > 65536:  # completions repeat the same boilerplate: keep what was counted
                self._holders.clear()
            got = self._holders[key] = self._count_holders(d, start, end)
        return got

    def _count_holders(self, d: int, start: int, end: int) -> npt.NDArray[np.int32]:
        # The document's folded text is at hand: its seeds need no second folding.
        doff = self._doc(d)[1]
        fa, fb = int(np.searchsorted(doff, start)), int(np.searchsorted(doff, end))
        at = int(self.folded_at[d])
        cps = np.frombuffer(self.folded[at + fa : at + fb].encode("utf-32-le"), dtype=np.uint32)
        h = kgram_hashes(cps, self.n)
        h = h[chosen(h, EVERY)]
        if len(h) == 0:
            return np.array([d], dtype=np.int32)
        h = np.unique(h)
        left = np.searchsorted(self.hashes, h, side="left")
        count = np.searchsorted(self.hashes, h, side="right") - left
        held: npt.NDArray[np.int32] | None = None
        for i in np.argsort(count, kind="stable")[:_HOLDER_SEEDS].tolist():
            if held is None:
                docs = self.doc_of[left[i] : left[i] + count[i]]
                held = docs[np.r_[True, docs[1:] != docs[:-1]]] if len(docs) else docs
            else:
                held = held[self._listed(held, int(left[i]), int(count[i]))]
            if len(held) <= 1:
                break
        return np.array([d], dtype=np.int32) if held is None or len(held) == 0 else held

    def _listed(self, docs: npt.NDArray[np.int32], left: int, count: int) -> npt.NDArray[np.bool_]:
        """Which of `docs` (sorted) a seed's postings list; postings are in corpus order, so a binary search."""
        postings = self.doc_of[left : left + count]
        at = np.searchsorted(postings, docs)
        inside = at < count
        out = np.zeros(len(docs), dtype=bool)
        out[inside] = postings[at[inside]] == docs[inside]
        return out
