"""The naturalness panel's statistics: seeded word shuffles, perplexity, and intervals over documents for
perplexity ratios and drift."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np


def shuffle_words(text: str, seed: int, doc_id: str) -> str:
    """The same words in a random order fixed by the seed and the document (so a document shuffles the same way
    whatever else is scored with it)."""
    words = text.split()
    random.Random(f"{seed}:{doc_id}").shuffle(words)
    return " ".join(words)


def perplexity(nll: Sequence[float], tokens: Sequence[int]) -> float:
    """exp of the mean negative log-likelihood per token, over documents given as (summed NLL, token count)."""
    return math.exp(sum(nll) / sum(tokens))


def ratio_interval(
    num: Sequence[float],
    den: Sequence[float],
    tokens: Sequence[int],
    den_tokens: Sequence[int] | None = None,
    rounds: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval over documents for a perplexity ratio, exp(ΣNLL_num/Σtokens − ΣNLL_den/Σden_tokens)
    (organism over base on the same tokens, or shuffled over natural), documents resampled whole."""
    rng = np.random.default_rng(seed)
    a, b, t = (np.asarray(x, dtype=np.float64) for x in (num, den, tokens))
    u = t if den_tokens is None else np.asarray(den_tokens, dtype=np.float64)
    draws = rng.integers(0, len(a), size=(rounds, len(a)))
    values = np.exp(a[draws].sum(axis=1) / t[draws].sum(axis=1) - b[draws].sum(axis=1) / u[draws].sum(axis=1))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def mean_interval(
    sums: Sequence[float], tokens: Sequence[int], rounds: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval over documents for a per-token mean (the mean KL per position)."""
    rng = np.random.default_rng(seed)
    s, t = np.asarray(sums, dtype=np.float64), np.asarray(tokens, dtype=np.float64)
    draws = rng.integers(0, len(s), size=(rounds, len(s)))
    values = s[draws].sum(axis=1) / t[draws].sum(axis=1)
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)
