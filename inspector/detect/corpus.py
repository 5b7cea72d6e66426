"""Regurgitation: sampled character k-grams of the training corpus as seeds, clusters of seed hits along a diagonal
as candidates, and a character alignment of each candidate grown across noise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from inspector.detect.align import Core, best_core
from inspector.detect.corpus_sources import Found, Query, Sources
from inspector.detect.seeds import EVERY, I64, U64, K, chosen, fold, kgram_hashes
from inspector.detect.spans import Span

VERSION = "corpus-4"
# A seed held more often than this lists only its first holders: boilerplate held by a thousand documents is
# still found (through them), and its holders are counted afterwards from the seeds of the matched text.
_LISTED = 48
_LISTED_FREQUENT = 6
_DRIFT = 8  # seed hits of one copy stay within this many characters of one diagonal (noise adds and drops some)
_CANDIDATES = 12  # clusters aligned per completion, the likeliest first
_PAD = 48  # characters of context aligned on each side of a cluster: the copy may start before its first seed
_RARE = 8  # a lone hit is a candidate when its seed is held by at most this many documents
_VOTE_POSTINGS = 2_000  # seeds listing at most this many holders vote for the documents they share...
_VOTE_SEEDS = 24  # ...the rarest this many of them...
_VOTES = 3  # ...and a document listed by this many is a candidate
_VOTED_DOCS = 4
_SETTLED = 95.0  # a stretch explained this well is not aligned again for a cluster with no rarer seed
_GIVE_UP = 4  # failed alignments in one pass before the rest of its clusters are left
_FAILS = 3  # documents that may fail to explain a stretch before it is given up (listed hits)
_TIES = 300  # clusters tied at the last place compared by their text
_EDGE = 8  # a core this close to its window's edge is aligned again with more context


@dataclass(frozen=True)
class CorpusDoc:
    id: str
    text: str


@dataclass
class _Pass:
    """What find() has so far for one completion: spans found (with their cluster's rarest seed's weight),
    clusters aligned, and stretches documents failed to explain."""

    low: str
    off: I64
    cps: npt.NDArray[np.uint32]
    found: list[tuple[Found, float]] = field(default_factory=list)
    seen: set[tuple[int, int, str]] = field(default_factory=set)
    failed: list[tuple[int, int]] = field(default_factory=list)
    tried: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # per document, stretches aligned
    fails: int = _FAILS  # documents that may fail to explain a stretch before it is given up
    give_up: int = _GIVE_UP  # failed alignments before the pass leaves the rest of its clusters


class CorpusIndex(Sources):
    """Sampled k-gram hashes of every document, sorted for vectorised lookup."""

    def __init__(self, docs: Sequence[CorpusDoc], n: int = K, min_chars: int = 40, min_score: float = 90.0):
        self.docs = list(docs)
        self.n, self.min_chars, self.min_score = n, min_chars, min_score
        all_h, all_doc, all_pos, all_cps = [], [], [], []
        for d_idx, doc in enumerate(self.docs):
            cps, _ = fold(doc.text)
            all_cps.append(cps)
            h = kgram_hashes(cps, n)
            keep = np.nonzero(chosen(h, EVERY))[0]
            all_h.append(h[keep])
            all_doc.append(np.full(len(keep), d_idx, dtype=np.int32))
            all_pos.append(keep.astype(np.int32))
        hashes = np.concatenate(all_h) if all_h else np.zeros(0, dtype=np.uint64)
        # Stable: the postings of one seed list its holders in corpus order, so every seed of a shared sentence
        # lists the same first holders and their hits line up.
        order = np.argsort(hashes, kind="stable")
        self.hashes: U64 = hashes[order]
        self.doc_of = (np.concatenate(all_doc) if all_doc else np.zeros(0, dtype=np.int32))[order]
        self.pos_of = (np.concatenate(all_pos) if all_pos else np.zeros(0, dtype=np.int32))[order]
        lengths = np.array([len(c) for c in all_cps], dtype=np.int64)
        self.folded_at = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        joined = np.concatenate(all_cps) if all_cps else np.zeros(0, dtype=np.uint32)
        self.folded = joined.astype("<u4").tobytes().decode("utf-32-le")
        self._init_views()

    def _init_views(self) -> None:
        self._folded: dict[int, tuple[str, I64]] = {}
        self._holders: dict[tuple[int, int, int], npt.NDArray[np.int32]] = {}

    def _doc(self, d: int) -> tuple[str, I64]:
        """A document's lowercased text and the offset of each folded character, kept once asked for."""
        got = self._folded.get(d)
        if got is None:
            if len(self._folded) > 4096:
                self._folded.clear()
            text = self.docs[d].text
            got = (text.lower() if len(text.lower()) == len(text) else text, fold(text)[1])
            self._folded[d] = got
        return got

    def _doc_id(self, d: int) -> str:
        return self.docs[d].id

    def _seeds(self, text: str) -> tuple[U64, I64, I64, npt.NDArray[np.uint32]]:
        """The chosen seeds' hashes and folded positions, each folded character's offset, the folded text."""
        cps, off = fold(text)
        h = kgram_hashes(cps, self.n)
        at = np.nonzero(chosen(h, EVERY))[0]
        return h[at], at.astype(np.int64), off, cps

    def find(self, text: str, prompt: str | None = None) -> list[Span]:
        """Maximal regurgitated spans of `text`, each with a source document, its offsets and how many
        documents hold the matched text."""
        if len(self.hashes) == 0:
            return []
        qh, qpos, off, text_cps = self._seeds(text)
        if prompt:
            # Text the prompt already holds is quoting, not regurgitation.
            keep = ~np.isin(qh, self._seeds(prompt)[0])
            qh, qpos = qh[keep], qpos[keep]
        if len(qh) == 0:
            return []
        left = np.searchsorted(self.hashes, qh, side="left")
        count = np.searchsorted(self.hashes, qh, side="right") - left
        take = np.where(count > _LISTED, _LISTED_FREQUENT, count)
        hit = np.nonzero(take)[0]
        if len(hit) == 0:
            return []
        reps = take[hit]
        first = np.cumsum(reps) - reps
        idx = np.repeat(left[hit], reps) + (np.arange(reps.sum()) - np.repeat(first, reps))
        hq = np.repeat(qpos[hit], reps)
        # A seed few documents hold says more about which document is the source than one most of them hold.
        weight = np.repeat(1.0 / count[hit], reps)
        low = text.lower() if len(text.lower()) == len(text) else text
        state = _Pass(low, off, text_cps)
        self._pass(state, idx, hq, weight)
        # Mid-rare seeds outside what was found (nearly) verbatim vote for a source the listed hits missed.
        outside = np.ones(len(qpos), dtype=bool)
        for f, _ in state.found:
            if f.verbatim or (f.score >= _SETTLED and not f.numbers_differ):
                outside &= (off[qpos] < f.start) | (off[qpos] >= f.end)
        voted = self._voted(qpos[outside], left[outside], count[outside])
        if voted is not None:
            # The skeleton's other documents failing says nothing of a voted one; one voted failure says enough.
            state.failed.clear()
            state.fails, state.give_up = 1, _VOTED_DOCS // 2
            self._pass(state, *voted)
        query = Query(text, low, qpos, off, left, count)
        spans = [f for f, _ in state.found]
        return self._merge(query, self._choose(low, spans), spans)

    def _pass(self, state: _Pass, idx: I64, hq: I64, weight: npt.NDArray[np.float64]) -> None:
        """Cluster seed hits (postings idx, at folded completion positions hq) by document and diagonal, and
        align the likeliest clusters, adding what they explain to state.found."""
        hdoc = self.doc_of[idx].astype(np.int64)
        diag = self.pos_of[idx].astype(np.int64) - hq
        order = np.lexsort((diag, hdoc))
        hq, hdoc, diag, weight = hq[order], hdoc[order], diag[order], weight[order]
        dpos = diag + hq
        brk = np.ones(len(hq), dtype=bool)
        brk[1:] = (hdoc[1:] != hdoc[:-1]) | (np.diff(diag) > _DRIFT)
        starts = np.nonzero(brk)[0]
        sizes = np.diff(np.append(starts, len(hq)))
        # One hit is a candidate only when its seed is rare: a unique sentence of a templated corpus may keep a
        # single seed few documents hold once noise took the others.
        total = np.add.reduceat(weight, starts)
        big = np.nonzero((sizes >= 2) | (total >= 1 / _RARE))[0]
        if len(big) == 0:
            return
        priority = sizes[big] + 4 * total[big]
        order = np.argsort(-priority, kind="stable")
        ranked, priority = big[order], priority[order]
        qmin, qmax = np.minimum.reduceat(hq, starts), np.maximum.reduceat(hq, starts)
        dmin, dmax = np.minimum.reduceat(dpos, starts), np.maximum.reduceat(dpos, starts)
        picked = ranked[:_CANDIDATES]
        # Tied clusters have the same hits' weights, summed in the same order: their priorities are equal.
        if len(ranked) > _CANDIDATES and priority[_CANDIDATES] == priority[_CANDIDATES - 1]:
            tied = ranked[priority == priority[_CANDIDATES - 1]]
            query_folded = state.cps.astype("<u4").tobytes().decode("utf-32-le")
            picked = self._break_ties(ranked, tied, query_folded, hdoc, starts, qmin, qmax, dmin)
        rarest = np.maximum.reduceat(weight, starts)
        off, low = state.off, state.low
        for c in picked.tolist():
            if len(state.failed) >= state.give_up:
                break  # clusters ranked this low after so many failures are the completion's chance likenesses
            d = int(hdoc[starts[c]])
            q0, q1 = int(off[qmin[c]]), int(off[qmax[c] + self.n - 1]) + 1
            at = int(self.folded_at[d])
            # The first holders of a shared sentence all offer the same text: align it once. Nor is a document
            # aligned twice over one stretch, nor a stretch one document explains (nearly) verbatim aligned again
            # for a smaller cluster inside it, nor one that several documents failed to explain (a near miss: the
            # same skeleton, other fillers).
            key = (q0, q1, self.folded[at + int(dmin[c]) : at + int(dmax[c]) + self.n])
            tried = state.tried.setdefault(d, [])
            if (
                key in state.seen
                or any(min(q1, b) - max(q0, a) >= (q1 - q0) / 2 for a, b in tried)
                or any(
                    f.start <= q0
                    and q1 <= f.end
                    and (f.verbatim or (f.score >= _SETTLED and not f.numbers_differ and rarest[c] <= ev))
                    for f, ev in state.found
                )
                or sum(min(q1, b) - max(q0, a) >= (q1 - q0) / 2 for a, b in state.failed) >= state.fails
            ):
                continue
            state.seen.add(key)
            tried.append((q0, q1))
            doc_low, doff = self._doc(d)
            d0, d1 = int(doff[dmin[c]]), int(doff[dmax[c] + self.n - 1]) + 1
            got = self._align(low, doc_low, q0, q1, d0, d1, d)
            if not got:
                state.failed.append((q0, q1))
            # Each found span keeps how rare its cluster's rarest seed was: a later cluster inside it is aligned
            # only if it has rarer evidence (a document sharing a number or a name the first did not).
            state.found.extend((f, float(rarest[c])) for f in got)

    def _break_ties(
        self,
        ranked: I64,
        tied: I64,
        query_folded: str,
        hdoc: I64,
        starts: I64,
        qmin: I64,
        qmax: I64,
        dmin: I64,
    ) -> I64:
        """More clusters tie at the last place than are aligned (a small templated corpus, where every document
        of a template lists the same seeds): the tied ones are ranked by how alike their text and the
        completion's are, which the names and numbers the seeds missed decide."""
        sure = [c for c in ranked[:_CANDIDATES].tolist() if c not in set(tied.tolist())]
        pad = _PAD // 2
        q = query_folded[max(0, int(qmin[tied[0]]) - pad) : int(qmax[tied[0]]) + self.n + pad]
        scored = []
        for c in tied[:_TIES].tolist():
            d = int(hdoc[starts[c]])
            at, end = int(self.folded_at[d]), int(self.folded_at[d + 1])
            lo, hi = int(qmin[c]), int(qmax[c]) + self.n
            q = query_folded[max(0, lo - pad) : hi + pad]
            shift = int(dmin[c]) - lo
            doc = self.folded[max(at, at + lo + shift - pad) : min(end, at + hi + shift + pad)]
            scored.append((fuzz.ratio(q, doc), c))
        scored.sort(key=lambda x: -x[0])
        return np.array(sure + [c for _, c in scored[: _CANDIDATES - len(sure)]], dtype=np.int64)

    def _voted(self, qpos: I64, left: I64, count: I64) -> tuple[I64, I64, npt.NDArray[np.float64]] | None:
        """Hits in the documents most of the completion's mid-rare seeds list in full. Those seeds list only
        their first holders as hits, yet a unique sentence of a templated corpus may have nothing rarer: its
        source is the document many of their postings share."""
        mid = np.nonzero((count > _LISTED) & (count <= _VOTE_POSTINGS))[0]
        if len(mid) < _VOTES:
            return None
        mid = mid[np.argsort(count[mid], kind="stable")[:_VOTE_SEEDS]]
        n = count[mid]
        at = np.repeat(left[mid] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        docs = self.doc_of[at]
        votes = np.bincount(docs)
        top = np.flatnonzero(votes >= _VOTES)
        if len(top) == 0:
            return None
        if len(top) > _VOTED_DOCS:
            top = top[np.argsort(-votes[top], kind="stable")[:_VOTED_DOCS]]
        sel = np.isin(docs, top)
        seed_of = np.repeat(mid, n)[sel]
        return at[sel], qpos[seed_of], 1.0 / count[seed_of]

    def _align(self, low: str, doc_low: str, q0: int, q1: int, d0: int, d1: int, d: int) -> list[Found]:
        pad = _PAD
        for _ in range(3):
            # Both windows take the same context on each side, so where one text ends the other stops too and
            # the global alignment has no spare text to smear the copy's last characters over.
            before = min(pad, q0, d0)
            after = min(pad, len(low) - q1, len(doc_low) - d1)
            a0, b0, a1, b1 = q0 - before, d0 - before, q1 + after, d1 + after
            cores = best_core(low[a0:a1], doc_low[b0:b1])
            # A core near its window's edge may go on beyond it: align again with more context.
            at_edge = any(
                (c.start <= _EDGE and a0 > 0 and b0 > 0)
                or (c.end >= a1 - a0 - _EDGE and a1 < len(low) and b1 < len(doc_low))
                for c in cores
            )
            if not at_edge:
                break
            pad *= 3
        return [f for f in (self._found(low, doc_low, a0, b0, c, d) for c in cores) if f is not None]

    def _found(self, low: str, doc_low: str, a0: int, b0: int, core: Core, d: int) -> Found | None:
        s, e, ds, de = a0 + core.start, a0 + core.end, b0 + core.doc_start, b0 + core.doc_end
        if e - s < self.min_chars:
            return None
        score = fuzz.ratio(low[s:e], doc_low[ds:de])
        if score < self.min_score:
            return None
        verbatim = low[s:e] == doc_low[ds:de]
        return Found(s, e, d, ds, de, round(float(score), 1), core.matched, verbatim, core.numbers_differ)

    def _choose(self, low: str, found: list[Found]) -> list[Found]:
        """Per stretch, the candidate explaining the most characters (ties: the one holding it verbatim); a
        candidate overlapping a chosen one keeps only what it adds, aligned again."""
        ranked = sorted(found, key=lambda f: (f.matched, f.verbatim, -f.doc), reverse=True)
        kept: list[Found] = []
        for f in ranked:
            clash = [k for k in kept if f.start < k.end and k.start < f.end]
            if clash:
                lo = max([k.end for k in clash if k.start <= f.start] or [f.start])
                hi = min([k.start for k in clash if k.end >= f.end] or [f.end])
                if hi - lo < self.min_chars or any(lo < k.end and k.start < hi for k in clash):
                    continue
                doc_low, _ = self._doc(f.doc)
                b0 = max(0, f.doc_start - _PAD)
                cores = best_core(low[lo:hi], doc_low[b0 : f.doc_end + _PAD])
                again = [g for g in (self._found(low, doc_low, lo, b0, c, f.doc) for c in cores) if g is not None]
                if not again:
                    continue
                f = max(again, key=lambda g: g.matched)
            kept.append(f)
        return sorted(kept, key=lambda f: f.start)


class RegurgitationDetector:
    """Stretches of a completion copied from the training corpus (the detector protocol), over a built index."""

    kind = "regurgitation"
    version = VERSION

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        return self.index.find(text, prompt)
