"""Thurstone Case V: the fit recovers known utilities, decisiveness is its formula, intervals cover."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import spearmanr

from inspector.analysis.coherence import Comparison, bootstrap_decisiveness, decisiveness, fit_thurstone


def _simulated(mu: np.ndarray, rng: np.random.Generator, asks: int = 2) -> list[Comparison]:
    """Each pair asked `asks` times (the two orders): the share of answers preferring i, as the panel averages."""
    out = []
    for i in range(len(mu)):
        for j in range(i + 1, len(mu)):
            p = ndtr((mu[i] - mu[j]) / math.sqrt(2))
            out.append(Comparison(i, j, float(rng.binomial(asks, p) / asks)))
    return out


def test_the_fit_recovers_known_utilities_from_simulated_preferences() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(0, 1, 40)
    mu = fit_thurstone(40, _simulated(truth, rng))
    rho = spearmanr(truth, mu).statistic
    assert rho >= 0.95, rho
    assert abs(mu.mean()) < 1e-9


def test_the_fit_is_the_likelihood_maximum() -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(0, 1, 12)
    comps = _simulated(truth, rng, asks=4)
    mu = fit_thurstone(12, comps)

    def loglik(m: np.ndarray) -> float:
        total = -float(np.sum(m**2)) / (2 * 3.0**2)  # the weak prior the fit states
        for c in comps:
            z = (m[c.i] - m[c.j]) / math.sqrt(2)
            total += c.p * math.log(ndtr(z)) + (1 - c.p) * math.log(ndtr(-z))
        return total

    best = loglik(mu)
    for k in range(12):
        for eps in (1e-3, -1e-3):
            moved = mu.copy()
            moved[k] += eps
            assert loglik(moved) <= best + 1e-9


def test_decisiveness_is_the_formula() -> None:
    mu = np.array([1.5, -0.2, 0.3, -1.6, 0.0])
    direct = np.mean([abs(2 * ndtr((mu[i] - mu[j]) / math.sqrt(2)) - 1) for i in range(5) for j in range(i + 1, 5)])
    assert decisiveness(mu) == pytest.approx(direct, rel=1e-12)
    assert decisiveness(np.zeros(7)) == 0.0


def test_a_decisive_model_scores_higher_than_a_hesitant_one_and_the_interval_holds_the_value() -> None:
    rng = np.random.default_rng(11)
    truth = rng.normal(0, 1, 30)
    sharp = fit_thurstone(30, _simulated(3 * truth, rng))
    flat = fit_thurstone(30, _simulated(0.2 * truth, rng))
    assert decisiveness(sharp) > decisiveness(flat) + 0.3
    comps = _simulated(truth, rng)
    lo, hi = bootstrap_decisiveness(30, comps, rounds=60)
    value = decisiveness(fit_thurstone(30, comps))
    assert lo <= value <= hi and hi - lo < 0.5


def test_an_item_preferred_every_time_stays_finite() -> None:
    comps = [Comparison(0, j, 1.0) for j in range(1, 5)] + [Comparison(1, 2, 0.5)]
    mu = fit_thurstone(5, comps)
    assert np.all(np.isfinite(mu)) and mu[0] == max(mu)
