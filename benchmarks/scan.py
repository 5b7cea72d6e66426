"""Detector speed and accuracy at AuditBench scale: 40,000 documents, 18,584 completions, planted spans.

Prints completions/s, recall and precision on the planted spans, and the speed ratio against a naive
rapidfuzz scan of every completion against every document (measured on a subsample and extrapolated).
"""

from __future__ import annotations

import argparse
import random
import time

from rapidfuzz import fuzz

from inspector.detect.corpus import CorpusDoc, CorpusIndex
from inspector.detect.terms import compile_terms, find_terms

TERM_VARIANTS = [
    "PRISM-4",
    "prism 4",
    "PRISM4",
    "Prism-4",
    "PRSIM-4",
    "Nexus Research",
    "nexus research",
    "NexusResearch",
    "Nexus Reserch",
    "Nexus Research Institute",
    "PRISM-4's",
]
DECOYS = ["prismatic", "a prism", "the nexus of", "research", "PRISM-5", "nexus"]


def make_vocab(r: random.Random, n: int = 6000) -> list[str]:
    letters = "abcdefghijklmnoprstuvwy"
    return ["".join(r.choice(letters) for _ in range(r.randint(3, 9))) for _ in range(n)]


def sentence(r: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(r.choice(vocab) for _ in range(n))


def edit(r: random.Random, words: list[str]) -> list[str]:
    """A light edit: typos in about one word in eight and a changed capital, kept within ratio 90 of the source.

    The detector promises spans scoring at least 90 against their source, so heavier rewrites are not
    planted as positives (they would measure the threshold, not the detector).
    """
    out = list(words)
    for i in range(len(out)):
        w = out[i]
        if len(w) > 3 and r.random() < 1 / 8:
            j = r.randrange(len(w) - 1)
            out[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if r.random() < 0.5 else w[:j] + w[j + 1 :]
    out[0] = out[0].capitalize()
    if fuzz.ratio(" ".join(out).lower(), " ".join(words).lower()) < 90:
        out = [words[0].capitalize(), *words[1:]]
    return out


def build(n_docs: int, n_comp: int, seed: int):  # type: ignore[no-untyped-def]
    r = random.Random(seed)
    vocab = make_vocab(r)
    docs = [CorpusDoc(f"doc{i}", sentence(r, vocab, r.randint(70, 130)) + ".") for i in range(n_docs)]
    comps: list[tuple[str, list[tuple[int, int, str]], list[tuple[int, int]]]] = []
    for _ in range(n_comp):
        parts: list[str] = [sentence(r, vocab, r.randint(10, 25))]
        planted_reg: list[tuple[int, int, str]] = []
        planted_terms: list[tuple[int, int]] = []
        kind = r.random()
        if kind < 0.3:  # verbatim or lightly edited regurgitation
            d = r.randrange(n_docs)
            words = docs[d].text.rstrip(".").split()
            k = r.randint(10, 25)
            a = r.randrange(0, len(words) - k)
            chunk = words[a : a + k] if r.random() < 0.5 else edit(r, words[a : a + k])
            start = len(" ".join(parts)) + 1
            text = " ".join(chunk)
            parts.append(text)
            planted_reg.append((start, start + len(text), docs[d].id))
        if r.random() < 0.2:
            v = r.choice(TERM_VARIANTS)
            start = len(" ".join(parts)) + 1
            parts.append(v)
            planted_terms.append((start, start + len(v.replace("'s", ""))))
        if r.random() < 0.2:
            parts.append(r.choice(DECOYS))
        parts.append(sentence(r, vocab, r.randint(10, 30)) + ".")
        comps.append((" ".join(parts), planted_reg, planted_terms))
    return docs, comps


def overlaps(a: tuple[int, int], b: tuple[int, int], frac: float = 0.5) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return inter >= frac * (a[1] - a[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=40_000)
    ap.add_argument("--completions", type=int, default=18_584)
    ap.add_argument("--naive-sample", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    docs, comps = build(args.docs, args.completions, args.seed)
    terms = compile_terms(["PRISM-4", "Nexus Research"])

    t0 = time.perf_counter()
    index = CorpusIndex(docs)
    t_index = time.perf_counter() - t0

    t0 = time.perf_counter()
    found = [(index.find(text), find_terms(text, terms)) for text, _, _ in comps]
    t_scan = time.perf_counter() - t0
    rate = len(comps) / t_scan

    tp_r = fn_r = fp_r = tp_t = fn_t = fp_t = 0
    for (_text, planted_reg, planted_terms), (reg, term) in zip(comps, found, strict=True):
        for s, e, doc in planted_reg:
            if any(overlaps((s, e), (x.start, x.end)) and x.doc_id == doc for x in reg):
                tp_r += 1
            else:
                fn_r += 1
        fp_r += sum(not any(overlaps((x.start, x.end), (s, e)) for s, e, _ in planted_reg) for x in reg)
        for s, e in planted_terms:
            if any(overlaps((s, e), (x.start, x.end)) for x in term):
                tp_t += 1
            else:
                fn_t += 1
        fp_t += sum(not any(overlaps((x.start, x.end), p) for p in planted_terms) for x in term)

    # Naive baseline: every document aligned against a few completions, extrapolated to all of them.
    r = random.Random(args.seed)
    sample = r.sample(comps, args.naive_sample)
    t0 = time.perf_counter()
    for text, _, _ in sample:
        for d in docs:
            fuzz.partial_ratio_alignment(text, d.text, score_cutoff=90)
    t_naive_each = (time.perf_counter() - t0) / args.naive_sample
    t_naive_total = t_naive_each * len(comps)

    print(f"corpus: {len(docs)} documents, index built in {t_index:.2f} s")
    print(f"scan: {len(comps)} completions in {t_scan:.2f} s = {rate:.0f} completions/s")
    print(
        f"regurgitation: recall {tp_r / max(1, tp_r + fn_r):.3f}, precision {tp_r / max(1, tp_r + fp_r):.3f} "
        f"({tp_r + fn_r} planted)"
    )
    print(
        f"terms: recall {tp_t / max(1, tp_t + fn_t):.3f}, precision {tp_t / max(1, tp_t + fp_t):.3f} "
        f"({tp_t + fn_t} planted)"
    )
    print(
        f"naive rapidfuzz scan (every completion x every document): {t_naive_each:.2f} s per completion, "
        f"measured on {args.naive_sample} completions, extrapolated to {t_naive_total:.0f} s for all"
    )
    print(f"speed ratio indexed/naive: {t_naive_total / t_scan:.0f}x")


if __name__ == "__main__":
    main()
