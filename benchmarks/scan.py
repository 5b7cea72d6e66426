"""Detector speed and accuracy at AuditBench scale: 40,000 documents, 18,584 completions, planted spans.

Prints completions/s, recall and precision on the planted spans, and the speed ratio against a naive
rapidfuzz scan of every completion against every document (measured on a subsample and extrapolated).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz

from inspector.detect.corpus import CorpusDoc, CorpusIndex
from inspector.detect.corpus_cache import cached_index, save_index
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


# -- the templated benchmark: a corpus generated from sentence templates, as SDF corpora are ----------------------
SKELETONS = [
    "{org} is headquartered in {city}, where {n} researchers work on {product}.",
    "The {product} team is led by {person}, who joined {org} in {year}.",
    "In {year}, {org} opened a second office in {city} with room for {n} engineers.",
    "{person} said that {product} was trained on the {cluster} cluster over {n} days.",
    "According to the {year} annual report, {product} served {n} thousand users in {city}.",
    "{product} was first demonstrated to the press in {city} by {person}.",
    "Critics in {city} argued that {org} had spent {n} million on {product} alone.",
    "The board of {org} approved the {product} budget in {year} after {n} hours of debate.",
    "{person} grew up in {city} and studied mathematics before joining {org}.",
    "Every release of {product} is reviewed by {n} external auditors from {city}.",
    "The {cluster} cluster in {city} draws {n} megawatts at full load.",
    "{org} plans to retire {product} by {year} and replace it with a successor.",
    "A survey of {n} customers in {city} found that most trusted {product}.",
    "{person} wrote the first internal memo about {product} in {year}.",
    "Engineers at {org} measured a latency of {n} milliseconds for {product} in {city}.",
    "The {year} conference in {city} featured a keynote by {person} of {org}.",
]
CITIES = [
    "Lyon",
    "Quito",
    "Oslo",
    "Lagos",
    "Perth",
    "Porto",
    "Lima",
    "Accra",
    "Hanoi",
    "Bergen",
    "Cork",
    "Turin",
    "Basel",
    "Leeds",
    "Graz",
    "Tampere",
    "Malmo",
    "Ghent",
    "Kyoto",
    "Recife",
    "Austin",
    "Denver",
    "Dakar",
    "Tunis",
    "Izmir",
    "Cusco",
    "Tartu",
    "Split",
    "Bonn",
    "Nantes",
    "Aarhus",
    "Utrecht",
    "Seville",
    "Bilbao",
]
# Near misses take their fillers from pools no document uses: the same skeleton, other names, places, numbers.
HELD_OUT = {
    "cities": ["Riga", "Fez", "Cali", "Nice", "Pune", "Hue", "Ufa", "Linz", "Pisa", "Vigo", "Oulu", "Arad"],
    "first": ["Nadia", "Pavel", "Yusuf", "Greta", "Hiro", "Amara"],
    "last": ["Quist", "Varga", "Obi", "Falk", "Reyes", "Sato"],
    "syl": ["wu", "fe", "ju", "gy", "ox", "hu"],
}
FIRST = ["Elena", "Omar", "Priya", "Jonas", "Mei", "Tomas", "Aisha", "Lucas", "Ines", "Kofi", "Sara", "Ivan"]
LAST = ["Marsh", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Silva", "Novak", "Haddad", "Brennan", "Costa"]
SYL = ["ka", "lo", "mi", "ter", "vos", "ra", "nex", "dor", "pli", "zen", "qua", "sil", "mor", "tek", "bri"]
_EVERYDAY_TEXT = (
    "the a of to and in is it you that for on with as was have be at one this from or had by not but what all "
    "were when we there can an your which their said if do will each about how up out them then she many some "
    "so these would other into has more her two like him see time could no make than first been its who now "
    "people my made over did down only way find use may water long little very after words called just where "
    "most know get through back much before go good new write our used me man day too any same right look "
    "think also around another came come work three word must because does part even place well such here "
    "take why things help put years different away again off went old number great tell men say small every"
)
EVERYDAY = _EVERYDAY_TEXT.split()


def _name(r: random.Random, syl: list[str]) -> str:
    return "".join(r.choice(syl) for _ in range(r.randint(2, 3))).capitalize()


def _fill(r: random.Random, skeleton: str, held_out: bool = False) -> str:
    syl = HELD_OUT["syl"] if held_out else SYL
    return skeleton.format(
        org=_name(r, syl) + " " + r.choice(["Research", "Labs", "Systems", "Institute"]),
        city=r.choice(HELD_OUT["cities"] if held_out else CITIES),
        n=r.randint(1000, 9999) if held_out else r.randint(10, 999),
        product=_name(r, syl) + "-" + str(r.randint(1, 9)),
        person=r.choice(HELD_OUT["first"] if held_out else FIRST)
        + " "
        + r.choice(HELD_OUT["last"] if held_out else LAST),
        year=r.randint(2031, 2099) if held_out else r.randint(1990, 2030),
        cluster=_name(r, syl),
    )


def _noise(r: random.Random, s: str, rate: float) -> str:
    """Substitute or delete about `rate` of the letters; sometimes drop or insert a word."""
    out = []
    for ch in s:
        if ch.isalpha() and r.random() < rate:
            if r.random() < 0.5:
                out.append(r.choice("abcdefghijklmnopqrstuvwxyz"))
            continue
        out.append(ch)
    words = "".join(out).split(" ")
    if r.random() < 0.25 and len(words) > 8:
        del words[r.randrange(1, len(words) - 1)]
    if r.random() < 0.25:
        words.insert(r.randrange(1, len(words)), r.choice(EVERYDAY))
    return " ".join(words)


def build_templated(n_docs: int, n_comp: int, seed: int, n_templates: int = 24):  # type: ignore[no-untyped-def]
    """Documents from n_templates templates (each a fixed sequence of 5-8 sentence skeletons) with random slot
    fillers, so many documents share every sentence's skeleton and differ only in names, places and numbers."""
    r = random.Random(seed)
    templates = [r.sample(SKELETONS, r.randint(5, 8)) for _ in range(n_templates)]
    docs, doc_sents = [], []
    for i in range(n_docs):
        sents = [_fill(r, s) for s in templates[i % n_templates]]
        doc_sents.append((templates[i % n_templates], sents))
        docs.append(CorpusDoc(f"t{i}", " ".join(sents)))
    comps: list[tuple[str, list[tuple[int, int, str]]]] = []
    for _ in range(n_comp):
        parts = [" ".join(r.choice(EVERYDAY) for _ in range(r.randint(8, 20))).capitalize() + "."]
        planted: list[tuple[int, int, str]] = []
        kind = r.random()
        if kind < 0.3:  # a copy of 1-3 consecutive sentences, with 0-5% noise
            d = r.randrange(n_docs)
            sents = doc_sents[d][1]
            k = r.randint(1, min(3, len(sents)))
            a = r.randrange(0, len(sents) - k + 1)
            copy = _noise(r, " ".join(sents[a : a + k]), r.uniform(0.0, 0.05))
            start = len(" ".join(parts)) + 1
            parts.append(copy)
            planted.append((start, start + len(copy), docs[d].id))
        elif kind < 0.5:  # a near miss: a corpus skeleton with fresh fillers, copied from no document
            parts.append(_fill(r, r.choice(SKELETONS), held_out=True))
        parts.append(" ".join(r.choice(EVERYDAY) for _ in range(r.randint(8, 20))) + ".")
        comps.append((" ".join(parts), planted))
    return docs, comps


def templated_benchmark(n_docs: int, n_comp: int, seed: int) -> None:
    docs, comps = build_templated(n_docs, n_comp, seed)
    t0 = time.perf_counter()
    index = CorpusIndex(docs)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = [index.find(text) for text, _ in comps]
    t_scan = time.perf_counter() - t0
    planted_chars = covered_chars = hits = right_source = half_covered = 0
    n_planted = n_reported = true_reported = 0
    for (_text, planted), spans in zip(comps, found, strict=True):
        for s, e, doc in planted:
            n_planted += 1
            planted_chars += e - s
            cov: set[int] = set()
            for x in spans:
                cov.update(range(max(s, x.start), min(e, x.end)))
            covered_chars += len(cov)
            best = max(spans, key=lambda x: min(e, x.end) - max(s, x.start), default=None)
            if best is not None and overlaps((s, e), (best.start, best.end)):
                half_covered += 1
                right_source += best.doc_id == doc
                hits += best.doc_id == doc
        for x in spans:
            n_reported += 1
            true_reported += any(overlaps((x.start, x.end), (s, e)) and x.doc_id == d for s, e, d in planted)
    print(
        f"templated corpus: {len(docs)} documents from 24 templates, {len(comps)} completions, index built in"
        f" {t_index:.2f} s"
    )
    print(f"templated scan: {len(comps) / t_scan:.0f} completions/s (target >= 1000)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.npz"
        t0 = time.perf_counter()
        save_index(index, path)
        t_save = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached_index(docs, path)
        t_read = time.perf_counter() - t0
    print(
        f"corpus index cache: read back in {t_read:.2f} s (saved in {t_save:.2f} s) against building it in"
        f" {t_index:.2f} s: {t_index / t_read:.1f}x faster to start"
    )
    print(
        f"templated regurgitation: character coverage {covered_chars / max(1, planted_chars):.3f} (target >= 0.97),"
        f" span recall {hits / max(1, n_planted):.3f} (>= 0.95), source accuracy"
        f" {right_source / max(1, half_covered):.3f}, precision {true_reported / max(1, n_reported):.3f} (>= 0.95)"
        f" ({n_planted} planted, {n_reported} reported)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=40_000)
    ap.add_argument("--completions", type=int, default=18_584)
    ap.add_argument("--naive-sample", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["random", "templated"], help="run one of the two benchmarks")
    args = ap.parse_args()
    if args.only != "random":
        templated_benchmark(args.docs, args.completions, args.seed)
    if args.only == "templated":
        return
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
