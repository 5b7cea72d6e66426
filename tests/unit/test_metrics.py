"""Metrics against reference implementations (statsmodels) and textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from inspector.analysis.measures import cohen_kappa, mcnemar_exact_p, paired_difference, weighted_fraction, wilson


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (81, 263), (2826, 18584), (1, 1)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    ours = wilson(k, n)
    assert ours[0] == pytest.approx(lo, abs=1e-9) and ours[1] == pytest.approx(hi, abs=1e-9)


def test_wilson_textbook_value() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, example: 81/263 -> 0.2553 to 0.3662.
    lo, hi = wilson(81, 263)
    assert round(lo, 4) == 0.2553 and round(hi, 4) == 0.3662


@pytest.mark.parametrize(("b", "c"), [(0, 0), (5, 1), (12, 2), (3, 3), (30, 10), (0, 7)])
def test_mcnemar_exact_matches_statsmodels(b: int, c: int) -> None:
    ref = mcnemar(np.array([[10, b], [c, 10]]), exact=True).pvalue
    assert mcnemar_exact_p(b, c) == pytest.approx(ref, rel=1e-9)


def test_kappa_matches_statsmodels() -> None:
    a = ["ns", "ns", "rel", "none", "ns", "rel", "rel", "none", "ns", "ns", "none", "rel"]
    b = ["ns", "rel", "rel", "none", "ns", "rel", "ns", "none", "ns", "none", "none", "rel"]
    cats = sorted(set(a) | set(b))
    table = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        table[cats.index(x), cats.index(y)] += 1
    assert cohen_kappa(a, b) == pytest.approx(cohens_kappa(table).kappa, rel=1e-9)
    assert cohen_kappa(a, a) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa(a, b[:-1])


def test_weighted_fraction_reduces_to_wilson_with_equal_weights() -> None:
    items = [(True, 0.5)] * 3 + [(False, 0.5)] * 7
    frac, ci = weighted_fraction(items)
    assert frac == pytest.approx(0.3)
    assert ci == pytest.approx(wilson(3, 10))


def test_weighted_fraction_reweights_and_widens() -> None:
    # Hits drawn at a tenth of the rate of misses stand for ten times as many rollouts.
    items = [(True, 0.1)] * 5 + [(False, 1.0)] * 5
    frac, ci = weighted_fraction(items)
    assert frac == pytest.approx(50 / 55)
    n_eff = 55**2 / (5 * 100 + 5 * 1)
    assert ci == pytest.approx(wilson(frac * n_eff, n_eff))
    assert ci[1] - ci[0] > wilson(5, 10)[1] - wilson(5, 10)[0] - 0.2  # not narrower than a plain count suggests
    assert math.isnan(weighted_fraction([])[0])


def test_paired_difference_bootstrap() -> None:
    pairs = [(f"p{i}", i % 3 == 0, False) for i in range(60)] + [(f"p{i}", True, True) for i in range(60, 70)]
    d = paired_difference(pairs, reps=1000, seed=1)
    assert d is not None
    assert d.difference == pytest.approx(20 / 70)
    assert d.ci[0] < d.difference < d.ci[1] and d.ci[0] > 0
    assert d.organism_only == 20 and d.base_only == 0 and d.both == 10
    assert d.mcnemar_p == pytest.approx(mcnemar_exact_p(20, 0))
    assert paired_difference(pairs, reps=1000, seed=1) == d  # seeded: the same interval every time
    assert paired_difference([]) is None
    assert "bootstrap" in d.method and "prompts" in d.method


def test_paired_bootstrap_clusters_samples_of_a_prompt() -> None:
    """Ten samples of one prompt are one piece of evidence: the interval must be wider than if independent."""
    clustered = [(f"p{i // 10}", i // 10 % 2 == 0, False) for i in range(100)]
    independent = [(f"p{i}", i // 10 % 2 == 0, False) for i in range(100)]
    a, b = paired_difference(clustered, seed=2), paired_difference(independent, seed=2)
    assert a is not None and b is not None
    assert (a.ci[1] - a.ci[0]) > 1.5 * (b.ci[1] - b.ci[0])
