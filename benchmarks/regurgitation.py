"""Regurgitation found on corpora the detector was not written beside: coverage, recall, source and precision per
generator, noise model and noise rate, and the speed at AuditBench scale, with the CPU line.

Generators (benchmarks/regurgitation_corpora.py, frozen before the corpus-4 detector was written): `forum` and
`filing` (corpus-4 was developed looking at their misses), `newswire` (held out: written before corpus-4's
tuning and never run until its rules were final), plus `templated` (scan.py's, the one corpus-3 was tuned on).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Sequence

from benchmarks.machine import cpu_line
from benchmarks.regurgitation_corpora import GENERATORS, Completion, Planted, build
from benchmarks.scan import build_templated
from inspector.detect.corpus import VERSION, CorpusDoc, CorpusIndex
from inspector.detect.parallel import default_workers, detect_all
from inspector.detect.spans import Span


def _templated(n_docs: int, n_comp: int, seed: int) -> tuple[list[CorpusDoc], list[Completion]]:
    docs, comps = build_templated(n_docs, n_comp, seed)
    out = []
    index = {d.id: i for i, d in enumerate(docs)}
    for text, planted in comps:
        c = Completion(text, kind="copy" if planted else "clean")
        for s, e, doc in planted:
            # scan.py does not keep the clean copy or its holders: the planted document is the one right source.
            clean = docs[index[doc]].text  # a copy is part of it; the part is not kept
            c.planted.append(Planted(s, e, clean, frozenset({index[doc]}), -1.0, "templated", 1))
        out.append(c)
    return docs, out


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


class Tally:
    def __init__(self) -> None:
        self.chars = self.covered = self.n = self.recalled = self.half = self.right = 0
        self.holders_known = self.holders_right = 0

    def add(self, p: Planted, spans: Sequence[Span], index: dict[str, int]) -> None:
        self.n += 1
        self.chars += p.end - p.start
        cov: set[int] = set()
        for x in spans:
            cov.update(range(max(p.start, x.start), min(p.end, x.end)))
        self.covered += len(cov)
        best = max(spans, key=lambda x: _overlap(p.start, p.end, x.start, x.end), default=None)
        if best is not None and _overlap(p.start, p.end, best.start, best.end) >= (p.end - p.start) / 2:
            self.half += 1
            ok = index.get(best.doc_id or "", -1) in p.holders
            self.right += ok
            self.recalled += ok
            holders = getattr(best, "holders", None)
            if ok and holders is not None:
                self.holders_known += 1
                self.holders_right += holders == len(p.holders)

    def line(self) -> str:
        held = f", holders right {self.holders_right / self.holders_known:.3f}" if self.holders_known else ""
        return (
            f"coverage {self.covered / max(1, self.chars):.3f}, recall {self.recalled / max(1, self.n):.3f},"
            f" source {self.right / max(1, self.half):.3f}{held} ({self.n} copies)"
        )


def measure(name: str, n_docs: int, n_comp: int, seed: int) -> None:
    t0 = time.perf_counter()
    docs, comps = _templated(n_docs, n_comp, seed) if name == "templated" else build(name, n_docs, n_comp, seed)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx = CorpusIndex(docs)
    t_index = time.perf_counter() - t0
    # What `inspector detect` and `inspector scan` do: the detector in one forked process per core. First, so
    # that neither run inherits the caches the other warmed (the workers' caches die with them).
    workers = default_workers()
    t0 = time.perf_counter()
    found_all = detect_all(idx.find, [(c.text, None) for c in comps], workers)
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = [idx.find(c.text) for c in comps]
    t_scan = time.perf_counter() - t0
    assert found_all == found, "the workers found other spans than one process did"
    index = {d.id: i for i, d in enumerate(docs)}
    by: dict[tuple[str, float], Tally] = defaultdict(Tally)
    by_shared: dict[int, Tally] = defaultdict(Tally)
    upto4 = Tally()
    reported = true = part_true = 0
    near_reported = near = 0
    for c, spans in zip(comps, found, strict=True):
        for p in c.planted:
            by[(p.noise, p.rate)].add(p, spans, index)
            if p.rate <= 0.04 and p.noise != "word" and p.noise != "mixed":
                upto4.add(p, spans, index)
                by_shared[p.shared].add(p, spans, index)
        for x in spans:
            reported += 1
            over = [p for p in c.planted if _overlap(p.start, p.end, x.start, x.end) >= (x.end - x.start) / 2]
            true += any(index.get(x.doc_id or "", -1) in p.holders for p in over)
            # A span over part of a copy may name a holder of that part only (a shared sentence of it).
            src = docs[index[x.doc_id or ""]].text[x.doc_start : x.doc_end].lower() if x.doc_id in index else "?"
            part_true += any(index.get(x.doc_id or "", -1) in p.holders or src in p.clean.lower() for p in over)
        near += c.kind == "near miss"
        near_reported += c.kind == "near miss" and bool(spans)
    print(
        f"{name}: {len(docs)} documents ({sum(len(d.text) for d in docs) / 1e6:.1f} M characters, generated in"
        f" {t_gen:.1f} s), index built in {t_index:.1f} s; detector {VERSION}"
    )
    print(
        f"{name} speed: {len(comps)} completions at {len(comps) / t_all:.0f} completions/s in {workers} processes"
        f" (target >= 1000 on 2 cores), against {len(comps) / t_scan:.0f}/s in one process measured in the same"
        f" run: {t_scan / t_all:.2f}x"
    )
    print(
        f"{name} precision {part_true / max(1, reported):.3f} (the source holds the copied text the span covers),"
        f" {true / max(1, reported):.3f} strict (the source holds the whole copy) of {reported} spans; near misses"
        " flagged"
        f" {near_reported / max(1, near):.3f} of {near}"
    )
    print(f"{name} char noise 0-4%: {upto4.line()}")
    for key in sorted(by):
        noise, rate = key
        label = f"{noise} {rate:.0%}" if rate >= 0 else noise
        print(f"{name}   {label:>9}: {by[key].line()}")
    for shared in sorted(by_shared):
        print(f"{name}   sentence held by {shared:>4}, char noise 0-4%: {by_shared[shared].line()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=40_000)
    ap.add_argument("--completions", type=int, default=18_584)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=[*GENERATORS, "templated"], action="append")
    args = ap.parse_args()
    print(cpu_line())
    for name in args.only or ["forum", "filing", "templated"]:
        measure(name, args.docs, args.completions, args.seed)


if __name__ == "__main__":
    main()
