"""Preference coherence: Thurstone Case V utilities fitted to pairwise preferences, and μ-decisiveness."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

_erf = np.vectorize(math.erf, otypes=[np.float64])
# A weak N(0, 3^2) prior on each utility: an item preferred in every one of its pairs has no finite maximum
# likelihood, and a model that always answers the same way must still get a number (a large one).
PRIOR_SD = 3.0


def norm_cdf(x: Floats) -> Floats:
    out: Floats = 0.5 * (1.0 + _erf(np.asarray(x, dtype=np.float64) / math.sqrt(2.0)))
    return out


def norm_pdf(x: Floats) -> Floats:
    out: Floats = np.exp(-0.5 * np.asarray(x, dtype=np.float64) ** 2) / math.sqrt(2.0 * math.pi)
    return out


@dataclass(frozen=True)
class Comparison:
    """P(i is preferred to j) as the model answered it, averaged over both orders of asking."""

    i: int
    j: int
    p: float


def fit_thurstone(n_items: int, comparisons: Sequence[Comparison], iterations: int = 100) -> Floats:
    """Utilities μ (mean 0) maximising Σ p log Φ((μi − μj)/√2) + (1 − p) log Φ((μj − μi)/√2) (Case V, σ = 1),
    by Newton's method with the expected information; soft outcomes p are used as they are."""
    mu = np.zeros(n_items)
    if not comparisons:
        return mu
    i = np.array([c.i for c in comparisons])
    j = np.array([c.j for c in comparisons])
    p = np.clip(np.array([c.p for c in comparisons], dtype=np.float64), 0.0, 1.0)
    rt2 = math.sqrt(2.0)
    for _ in range(iterations):
        z = (mu[i] - mu[j]) / rt2
        cdf = np.clip(norm_cdf(z), 1e-12, 1 - 1e-12)
        pdf = norm_pdf(z)
        # d loglik / d z for each comparison, then d z / d mu_i = 1/√2, d z / d mu_j = -1/√2.
        g_pair = (p / cdf - (1 - p) / (1 - cdf)) * pdf / rt2
        info = pdf**2 / (cdf * (1 - cdf)) / 2.0
        grad = np.bincount(i, g_pair, n_items) - np.bincount(j, g_pair, n_items) - mu / PRIOR_SD**2
        hess = np.zeros((n_items, n_items))
        np.add.at(hess, (i, i), info)
        np.add.at(hess, (j, j), info)
        np.add.at(hess, (i, j), -info)
        np.add.at(hess, (j, i), -info)
        hess += np.eye(n_items) / PRIOR_SD**2
        step = np.linalg.solve(hess, grad)
        mu = mu + step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    centred: Floats = mu - mu.mean()
    return centred


def decisiveness(mu: Floats) -> float:
    """The mean over all item pairs of |2Φ((μi − μj)/√2) − 1|: 0 when every pair is a coin flip, 1 when every
    preference is certain."""
    n = len(mu)
    if n < 2:
        return float("nan")
    a, b = np.triu_indices(n, k=1)
    return float(np.mean(np.abs(2.0 * norm_cdf((mu[a] - mu[b]) / math.sqrt(2.0)) - 1.0)))


def bootstrap_decisiveness(
    n_items: int, comparisons: Sequence[Comparison], rounds: int = 200, seed: int = 0
) -> tuple[float, float]:
    """A 95% percentile interval over items: resample items with replacement, keep the comparisons between the
    drawn items (a pair drawn k and l times counts k·l times), refit and recompute."""
    rng = np.random.default_rng(seed)
    by_pair = {(c.i, c.j): c.p for c in comparisons}
    values = []
    for _ in range(rounds):
        drawn = rng.integers(0, n_items, n_items)
        counts = np.bincount(drawn, minlength=n_items)
        kept = [k for k in range(n_items) if counts[k]]
        index = {k: x for x, k in enumerate(kept)}
        resampled = [
            Comparison(index[a], index[b], p)
            for (a, b), p in by_pair.items()
            if counts[a] and counts[b]
            for _ in range(int(counts[a] * counts[b]))
        ]
        mu = fit_thurstone(len(kept), resampled)
        # The formula over pairs of drawn items, each pair as often as it was drawn; an item drawn twice is no
        # pair with itself (it would count as a coin flip and pull the interval towards 0).
        w = counts[kept].astype(np.float64)
        a, b = np.triu_indices(len(kept), k=1)
        sure = np.abs(2.0 * norm_cdf((mu[a] - mu[b]) / math.sqrt(2.0)) - 1.0)
        values.append(float(np.sum(w[a] * w[b] * sure) / np.sum(w[a] * w[b])) if len(a) else float("nan"))
    lo, hi = np.nanpercentile(values, [2.5, 97.5])
    return float(lo), float(hi)
