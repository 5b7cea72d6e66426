"""langdetect's verdict, the same one, several times faster: its sampling loop redone on arrays.

IFEval names a response's language with langdetect, and langdetect spends nearly all its time multiplying 55
probabilities by an n-gram's 55 weights in a Python loop, up to 7,000 times a text. Here langdetect still
cleans the text, extracts the n-grams and draws every random number, in its order and from its seed; only the
products are taken on arrays, one block of draws between two convergence checks at a time. Each element is the
same chain of IEEE multiplications in the same order (a product reduced along the first axis is sequential),
so the probabilities, and so the verdicts, are the ones langdetect gives: `benchmarks/ifeval_agreement.py`
checks that on every text it scores.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

import langdetect
import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import DetectorFactory, init_factory
from langdetect.utils.ngram import NGram

SEED = 0


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    init_factory()
    factory = langdetect.detector_factory._factory
    assert factory is not None
    return factory


class _Weights:
    """Each n-gram's per-language weights as an array, built the first time the n-gram is seen."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.rows: dict[str, np.ndarray] = {}

    def matrix(self, grams: list[str]) -> tuple[np.ndarray, list[int]]:
        unique = list(dict.fromkeys(grams))
        for g in unique:
            if g not in self.rows:
                self.rows[g] = np.asarray(self.table[g], dtype=np.float64)
        where = {g: i for i, g in enumerate(unique)}
        return np.stack([self.rows[g] for g in unique]), [where[g] for g in grams]


@lru_cache(maxsize=1)
def _weights() -> _Weights:
    return _Weights(_factory().word_lang_prob_map)


@lru_cache(maxsize=65536)
def _segment_grams(raw: str) -> tuple[str, ...]:
    """langdetect's n-grams of one run of letters and the character that ends it, from a fresh n-gram state."""
    table = _factory().word_lang_prob_map
    ngram, out = NGram(), []
    for ch in raw:
        ngram.add_char(ch)
        if ngram.capitalword:
            continue
        for n in (1, 2, 3):
            if len(ngram.grams) < n:
                break
            w = ngram.grams[-n:]
            if w != " " and w in table:
                out.append(w)
    return tuple(out)


@lru_cache(maxsize=4096)
def _normal(ch: str) -> str:
    return str(NGram.normalize(ch))


def _grams(text: str) -> list[str]:
    """langdetect's n-grams of a cleaned text, a run of letters at a time: its n-gram state starts afresh after
    every character that normalizes to a space, so each run (with the space that ends it) gives the same n-grams
    wherever it stands, and a run met before is not walked again."""
    out: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if _normal(ch) == " ":
            if i > start:
                out.extend(_segment_grams(text[start : i + 1]))
            start = i + 1
    if start < len(text):
        out.extend(_segment_grams(text[start:]))
    return out


def detect(text: str) -> str | None:
    """The language langdetect would name for the text with its seed fixed: "unknown" where no language is
    likely, None where the text has no features to go on."""
    factory = _factory()
    detector = factory.create()
    detector.append(text)
    detector.cleaning_text()
    grams = _grams(detector.text)
    if not grams:
        return None
    matrix, index = _weights().matrix(grams)
    langs = len(factory.langlist)
    rng = random.Random(SEED)
    draw = _drawer(rng, len(index))
    total = np.zeros(langs)
    rows = np.empty((6, langs))
    for _ in range(detector.n_trial):
        prob = np.full(langs, 1.0 / langs)
        alpha = detector.alpha + rng.gauss(0.0, 1.0) * Detector.ALPHA_WIDTH
        weighted = (alpha / Detector.BASE_FREQ) + matrix  # langdetect's weight + the n-gram's, element by element
        # langdetect checks convergence after its first draw, then after every fifth: blocks of 1, 5, 5, ...
        checked_at, block = 0, 1
        while True:
            rows[0] = prob
            rows[1 : block + 1] = weighted[[index[draw()] for _ in range(block)]]
            prob = np.multiply.reduce(rows[: block + 1], axis=0)
            values = prob.tolist()
            total_p = sum(values)  # Python's sum, left to right, as langdetect adds them
            prob = prob / total_p
            # Rounded division by a positive number keeps order, so the largest quotient is the largest's.
            if max(values) / total_p > Detector.CONV_THRESHOLD or checked_at >= Detector.ITERATION_LIMIT:
                break
            checked_at, block = checked_at + 5, 5
        total += prob / detector.n_trial
    best = int(np.argmax(total))
    return str(factory.langlist[best]) if total[best] > Detector.PROB_THRESHOLD else Detector.UNKNOWN_LANG


def _inline_choice(rng: random.Random, n: int) -> Callable[[], int]:
    getrandbits, k = rng.getrandbits, n.bit_length()

    def draw() -> int:
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    return draw


@lru_cache(maxsize=1)
def _inline_matches() -> bool:
    """Whether this Python's random.choice is the bit-drawing loop inlined above (CPython's since 3.2): checked on
    draws from many sizes, so a Python that draws otherwise falls back to calling choice itself."""
    a, b = random.Random(7), random.Random(7)
    return all(a.choice(range(n)) == _inline_choice(b, n)() for n in list(range(1, 200)) * 5)


def _drawer(rng: random.Random, n: int) -> Callable[[], int]:
    """The index random.choice would draw from a sequence of n, next on each call, from the same stream."""
    if _inline_matches():
        return _inline_choice(rng, n)
    indices = range(n)
    return lambda: rng.choice(indices)
