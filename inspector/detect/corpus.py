"""Regurgitation: an n-gram index over the training corpus, then rapidfuzz alignment of candidates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from inspector.detect.align import chains as _chains
from inspector.detect.align import extend as _extend
from inspector.detect.spans import Span

VERSION = "corpus-3"
_WORD = re.compile(r"[^\W_]+")
_P = np.uint64(1_000_003)
# A shingle held by more documents than this is template boilerplate and names no source; below it, every
# holder is a candidate (a copy is often told from its skeleton-sharing neighbours only by mid-rare shingles).
_MAX_SOURCES = 1000
_TOP_DOCS = 6
# How many documents tied on shingle evidence are compared by their text around the shared shingle.
_RERANK = 300
# A span must share with its source at least one shingle that few documents hold: text that only matches a
# sentence skeleton shared by many documents (other names, places, numbers) is a near miss, not a copy of one.
_RARE = 3
# ...or, when noise broke those, explaining this share more characters than any other candidate does.
_MARGIN = 0.01

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
        self._by_id = {d.id: d.text for d in self.docs}
        self.n = n
        self.min_chars = min_chars
        self.min_score = min_score
        self.vocab: dict[str, int] = {}
        self._doc_starts: list[list[int]] = []
        self._doc_ends: list[list[int]] = []
        self._doc_ids: list[I64] = []  # word ids, for extending matches word by word without re-tokenizing
        all_h, all_doc, all_pos = [], [], []
        for d_idx, doc in enumerate(self.docs):
            words, starts, ends = _words(doc.text)
            self._doc_starts.append(starts)
            self._doc_ends.append(ends)
            ids = np.fromiter(
                (self.vocab.setdefault(w, len(self.vocab) + 1) for w in words), dtype=np.int64, count=len(words)
            )
            self._doc_ids.append(ids.astype(np.int32))
            h = _shingle_hashes(ids, n)
            all_h.append(h)
            all_doc.append(np.full(len(h), d_idx, dtype=np.int32))
            all_pos.append(np.arange(len(h), dtype=np.int32))
        # How many documents hold each word: a word few documents hold (a name, a number) ties a copy to them.
        self._df = np.bincount(
            np.concatenate([np.unique(ids) for ids in self._doc_ids]) if self._doc_ids else np.zeros(0, np.int64),
            minlength=len(self.vocab) + 1,
        )
        self._vocab_words = [""] * (len(self.vocab) + 1)
        for w, i in self.vocab.items():
            self._vocab_words[i] = w
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
        qids = self._ids(words)
        lengths = [len(w) for w in words]  # once per completion, not once per candidate alignment
        q = _shingle_hashes(qids, n)
        wids = qids.tolist()
        if prompt:
            # Text the prompt already holds is quoting, not regurgitation.
            pw, _, _ = _words(prompt)
            ph = _shingle_hashes(self._ids(pw), n)
            if len(ph):
                q = np.where(np.isin(q, ph), np.uint64(0), q)
        left = np.searchsorted(self.hashes, q, side="left")
        right = np.searchsorted(self.hashes, q, side="right")
        counts = np.where(right - left <= _MAX_SOURCES, right - left, 0)
        hit_q = np.nonzero(counts)[0]
        if len(hit_q) == 0:
            return []
        reps = counts[hit_q]
        qpos = np.repeat(hit_q, reps)
        offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        idx = np.repeat(left[hit_q], reps) + offs
        docs = self.doc_of[idx]
        dpos = self.pos_of[idx]
        # Candidate sources by evidence: each hit weighs 1 / (documents holding its shingle), so boilerplate
        # shared by a whole template family counts for little and a copied name or number for much.
        full = (right - left)[hit_q]
        weight = np.repeat(1.0 / full, reps)
        rare_hit = np.repeat(full <= _RARE, reps)
        score = np.bincount(docs, weights=weight)
        order = np.argsort(-score, kind="stable")
        top = order[:_TOP_DOCS]
        top = top[score[top] > 0]
        if len(top) == _TOP_DOCS and len(order) > _TOP_DOCS and score[order[_TOP_DOCS]] >= score[top[-1]] * 0.999:
            # The shingles cannot tell the last places apart (noise took the names; every document of the template
            # with that number shares what is left): rank the tied documents by how well their text around the
            # shared shingle matches, which the names and places decide even when misspelt.
            top = self._rerank(text, starts, ends, order, score, qpos, docs, dpos)
        chains: list[tuple[int, int, int, int, int, int]] = []  # (length, c0, c1, d0, d1, doc)
        rare: dict[int, set[int]] = {}
        for d in top:
            sel = docs == d
            chains.extend(_chains(qpos[sel], dpos[sel], int(d), n))
            rare[int(d)] = set(qpos[sel & rare_hit].tolist())
        chains.sort(key=lambda c: -c[0])
        covered = np.zeros(len(words), dtype=bool)
        spans: list[Span] = []
        for chain in chains:
            _length, c0, c1, _d0, _d1, _d = chain
            first, last = c0, c1 + n - 1
            if covered[first : last + 1].any():
                # Keep only what this chain adds beyond spans already taken.
                free = np.nonzero(~covered[first : last + 1])[0]
                if len(free) < n:
                    continue
                first, last = c0 + int(free[0]), c0 + int(free[-1])
                if covered[first : last + 1].any():
                    continue
            # The stretch is found; now which document explains all of it best? Every candidate with a chain
            # over it is aligned over the whole stretch, and the one explaining the most characters wins (ties:
            # the one holding it verbatim, then the longer chain). In templated corpora the document of the
            # longest chain is often only a skeleton-sharing neighbour.
            found: dict[int, tuple[float, bool, int, Span, int, int, bool]] = {}
            for other in chains:
                if other[1] > last or other[2] + n - 1 < first:
                    continue
                placed = self._place(text, wids, words, lengths, starts, ends, first, last, other, covered)
                if placed is None:
                    continue
                sp, f2, l2, df2, dl2 = placed
                verbatim = sp.text.lower() in self.docs[other[5]].text.lower()
                has_rare = any(f2 <= q <= l2 - n + 1 for q in rare.get(other[5], ())) or self._rare_word_shared(
                    wids[f2 : l2 + 1], self._doc_ids[other[5]][df2 : dl2 + 1]
                )
                # Characters explained: a document that explains a longer stretch at a slightly lower score (its
                # names and numbers match too) beats one that only shares the skeleton's shorter middle.
                key = (sp.score * (sp.end - sp.start) / 100, verbatim, other[0], sp, f2, l2, has_rare)
                if other[5] not in found or key[:3] > found[other[5]][:3]:
                    found[other[5]] = key
            ranked = sorted(found.values(), key=lambda k: k[:3], reverse=True)
            if not ranked:
                continue
            best = ranked[0]
            runner_up = ranked[1][0] if len(ranked) > 1 else None
            # Evidence that it is a copy, not a sentence skeleton many documents share with other fillers: the
            # text stands verbatim in the document (several documents may hold a common sentence: it is still
            # corpus text), a rare shingle in common, or (when noise took those) a clear lead over every other
            # candidate, or no other candidate at all.
            if not (best[1] or best[6]) and runner_up is not None and best[0] < runner_up * (1 + _MARGIN):
                continue
            sp, f2, l2 = best[3], best[4], best[5]
            covered[f2 : l2 + 1] = True
            spans.append(sp)
        return self._merge(text, sorted(spans, key=lambda sp: sp.start))

    def _rerank(
        self,
        text: str,
        starts: list[int],
        ends: list[int],
        order: I64,
        score: npt.NDArray[Any],
        qpos: I64,
        docs: npt.NDArray[np.int32],
        dpos: npt.NDArray[np.int32],
    ) -> I64:
        floor = score[order[_TOP_DOCS - 1]] * 0.999
        sure = [int(d) for d in order[:_TOP_DOCS] if score[d] > score[order[_TOP_DOCS - 1]] * 1.001]
        tied = order[(score[order] >= floor) & (score[order] > 0)][:_RERANK]
        tied = tied[~np.isin(tied, sure)]
        # One shared shingle per tied document (its first), and the text around it on both sides.
        is_tied = np.isin(docs, tied)
        first: dict[int, tuple[int, int]] = {}
        for d, c, p in zip(docs[is_tied].tolist(), qpos[is_tied].tolist(), dpos[is_tied].tolist(), strict=True):
            first.setdefault(d, (c, p))
        reach = 12
        ranked = []
        for d, (c, p) in first.items():
            lo, hi = max(0, c - reach), min(len(starts) - 1, c + reach)
            dstarts, dends = self._doc_starts[d], self._doc_ends[d]
            dlo, dhi = max(0, p - (c - lo)), min(len(dends) - 1, p + (hi - c))
            sim = fuzz.ratio(text[starts[lo] : ends[hi]].lower(), self.docs[d].text[dstarts[dlo] : dends[dhi]].lower())
            ranked.append((sim, d))
        ranked.sort(reverse=True)
        keep = sure + [d for _, d in ranked[: _TOP_DOCS - len(sure)]]
        return np.array(keep, dtype=np.int64)

    def _merge(self, text: str, spans: list[Span]) -> list[Span]:
        """One copied stretch is one span: neighbours from the same document whose gap is about as long in the
        document as in the text (noise broke the shingles between them) become one, if the whole still scores."""
        out: list[Span] = []
        for sp in spans:
            prev = out[-1] if out else None
            if (
                prev is not None
                and prev.doc_id == sp.doc_id
                and prev.doc_end is not None
                and sp.doc_start is not None
                and 0 <= sp.start - prev.end <= 60
                and abs((sp.doc_start - prev.doc_end) - (sp.start - prev.end)) <= 12
            ):
                doc = self._by_id[sp.doc_id or ""]
                ds, de = prev.doc_start or 0, sp.doc_end or 0
                score = fuzz.ratio(text[prev.start : sp.end].lower(), doc[ds:de].lower())
                if score >= self.min_score:
                    out[-1] = Span(
                        "regurgitation",
                        prev.start,
                        sp.end,
                        text[prev.start : sp.end],
                        round(float(score), 1),
                        None,
                        sp.doc_id,
                        ds,
                        de,
                    )
                    continue
            out.append(sp)
        return out

    def _place(
        self,
        text: str,
        words: list[int],
        text_words: list[str],
        lengths: list[int],
        starts: list[int],
        ends: list[int],
        first: int,
        last: int,
        chain: tuple[int, int, int, int, int, int],
        covered: npt.NDArray[np.bool_],
    ) -> tuple[Span, int, int, int, int] | None:
        """The stretch first..last (completion words) aligned to one chain's document: the maximal span, its
        source offsets and score, or None if it is too short or scores under the threshold."""
        _length, c0, c1, d0, d1, d = chain
        n = self.n
        # The chain keeps the diagonal, so the document side moves by the same number of words.
        d_first = max(0, d0 + (first - c0))
        d_last = d1 + n - 1 if last == c1 + n - 1 else d_first + (last - first)
        dstarts, dends = self._doc_starts[d], self._doc_ends[d]
        d_last = min(d_last, len(dends) - 1)
        if d_first > d_last:
            return None
        # Shingles miss the words next to an edit at either end: extend word by word to the maximal span.
        dw = self._doc_ids[d].tolist()

        def similar(c: int, dd: int) -> bool:
            return self._similar(text_words[c], dw[dd])

        def edge(c: int, dd: int) -> bool:
            a, b = text_words[c], self._vocab_words[dw[dd]]
            return not (a + b).isdigit() and Levenshtein.normalized_similarity(a, b) >= 0.5

        first, d_first, last, d_last = _extend(words, dw, first, d_first, last, d_last, covered, similar, lengths, edge)
        s, e = starts[first], ends[last]
        if e - s < self.min_chars:
            return None
        ds, de = dstarts[d_first], dends[d_last]
        doc_text = self.docs[d].text
        score = fuzz.ratio(text[s:e].lower(), doc_text[ds:de].lower())
        if score < self.min_score:
            al = fuzz.partial_ratio_alignment(text[s:e].lower(), doc_text[max(0, ds - 40) : de + 40].lower())
            if al is None or al.score < self.min_score:
                return None
            score = al.score
            ds, de = max(0, ds - 40) + al.dest_start, max(0, ds - 40) + al.dest_end
        span = Span("regurgitation", s, e, text[s:e], round(float(score), 1), None, self.docs[d].id, ds, de)
        return span, first, last, d_first, d_last

    def _similar(self, word: str, doc_word: int) -> bool:
        """A completion word one typo from a document word (two for long words); numbers must match exactly,
        since a number is what tells a copy from its template's near miss."""
        wb = self._vocab_words[doc_word]
        if len(wb) < 4 or any(c.isdigit() for c in word + wb):
            return False
        k = 1 if len(wb) < 8 else 2
        return Levenshtein.distance(word, wb, score_cutoff=k) <= k

    def _rare_word_shared(self, span_ids: list[int], doc_ids: I64) -> bool:
        """Does the span share with the document's matched stretch a word that few documents hold?"""
        known = [w for w in span_ids if w < len(self._df) and self._df[w] <= _RARE]
        return bool(known) and bool(np.isin(known, doc_ids).any())


class RegurgitationDetector:
    """Stretches of a completion copied from the training corpus (the detector protocol), over a built index."""

    kind = "regurgitation"
    version = VERSION

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        return self.index.find(text, prompt)
