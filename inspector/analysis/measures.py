"""Leak-rate statistics: Wilson intervals, paired organism-minus-base differences, weighted fractions, kappa."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: discordant pairs b vs c under Binomial(b + c, 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail: float = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedDifference:
    """Organism leak rate minus base leak rate over pairs sharing prompt, sample and seed."""

    n_pairs: int
    both: int
    organism_only: int
    base_only: int
    difference: float
    ci: tuple[float, float]
    mcnemar_p: float
    method: str

    def as_dict(self) -> dict[str, Any]:
        """As `report --json` shows every paired difference."""
        return {
            "n_pairs": self.n_pairs,
            "both": self.both,
            "organism_only": self.organism_only,
            "base_only": self.base_only,
            "difference": self.difference,
            "ci": list(self.ci),
            "mcnemar_exact_p": self.mcnemar_p,
            "method": self.method,
        }


def paired_difference(
    pairs: Sequence[tuple[str, bool, bool]], reps: int = 2000, seed: int = 0
) -> PairedDifference | None:
    """pairs: (prompt id, organism leaked, base leaked). The interval is a paired bootstrap that resamples
    prompts (clusters), so several samples of one prompt are not counted as independent evidence."""
    if not pairs:
        return None
    by_prompt: dict[str, list[int]] = {}
    for pid, org_leak, base_leak in pairs:
        by_prompt.setdefault(pid, []).append(int(org_leak) - int(base_leak))
    clusters = [(sum(v), len(v)) for v in by_prompt.values()]
    n = len(pairs)
    diff = sum(s for s, _ in clusters) / n
    rng = random.Random(seed)
    stats: list[float] = []
    for _ in range(reps):
        pick = [clusters[rng.randrange(len(clusters))] for _ in clusters]
        tot = sum(m for _, m in pick)
        stats.append(sum(s for s, _ in pick) / tot)
    stats.sort()
    lo = stats[int(0.025 * (reps - 1))]
    hi = stats[math.ceil(0.975 * (reps - 1))]
    b = sum(1 for _, org, base in pairs if org and not base)
    c = sum(1 for _, org, base in pairs if base and not org)
    both = sum(1 for _, org, base in pairs if org and base)
    return PairedDifference(
        n,
        both,
        b,
        c,
        diff,
        (lo, hi),
        mcnemar_exact_p(b, c),
        f"paired percentile bootstrap over {len(clusters)} prompts, {reps} resamples",
    )


def weighted_fraction(items: Sequence[tuple[bool, float]], z: float = Z95) -> tuple[float, tuple[float, float]]:
    """Horvitz-Thompson style fraction from sampled items (hit, inclusion probability), with a Wilson interval
    on Kish's effective sample size, so unequal sampling widens the interval as it should."""
    if not items:
        return (math.nan, (0.0, 1.0))
    w = [1.0 / p for _, p in items]
    total = sum(w)
    frac = sum(wi for (hit, _), wi in zip(items, w, strict=True) if hit) / total
    n_eff = total * total / sum(wi * wi for wi in w)
    return (frac, wilson(frac * n_eff, n_eff, z))


def measured_fraction(items: Sequence[tuple[bool, float]]) -> tuple[float | None, list[float] | None]:
    """weighted_fraction, or (None, None) when there is nothing to measure: never a fraction of nothing."""
    if not items:
        return None, None
    f, ci = weighted_fraction(items)
    return f, [ci[0], ci[1]]


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa for two labelers' labels of the same items."""
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two equal, non-empty label lists")
    n = len(a)
    cats = sorted(set(a) | set(b))
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa: Mapping[str, float] = {c: a.count(c) / n for c in cats}
    pb: Mapping[str, float] = {c: b.count(c) / n for c in cats}
    pe = sum(pa[c] * pb[c] for c in cats)
    if pe == 1.0:
        return 1.0
    return (po - pe) / (1 - pe)


@dataclass(frozen=True)
class StratifiedEstimate:
    """A population share estimated from labeled random samples of strata of known size."""

    estimate: float
    ci: tuple[float, float]
    n_labeled: int
    method: str


def stratified_proportion(
    cells: Sequence[tuple[int, int, int]], draws: int = 20000, seed: int = 0
) -> StratifiedEstimate | None:
    """cells: (stratum size N_h, labeled n_h, of them positive y_h). The estimate is the stratified
    Horvitz-Thompson share sum(N_h * y_h / n_h) / sum(N_h). Its interval combines a Jeffreys Beta(y + 1/2,
    n - y + 1/2) per stratum by Monte Carlo: unlike a normal approximation, it does not collapse to a point when a
    small stratum has no positive yet, which is the usual state of the unflagged stratum. None when a non-empty
    stratum has no label (its share would be a guess)."""
    import numpy as np

    live = [(big_n, n, y) for big_n, n, y in cells if big_n > 0]
    if not live or any(n == 0 for _, n, _ in live):
        return None
    total = sum(big_n for big_n, _, _ in live)
    weights = np.array([big_n / total for big_n, _, _ in live])
    estimate = float(sum(w * y / n for w, (_, n, y) in zip(weights, live, strict=True)))
    rng = np.random.default_rng(seed)
    shares = np.stack([rng.beta(y + 0.5, n - y + 0.5, draws) for _, n, y in live])
    combined = weights @ shares
    lo, hi = (float(v) for v in np.quantile(combined, [0.025, 0.975]))
    # A share known exactly (every item of every stratum labeled) needs no interval around it.
    if all(n >= big_n for big_n, n, _ in live):
        lo = hi = estimate
    method = f"stratified Horvitz-Thompson over {len(live)} strata; Jeffreys-Beta Monte Carlo 95% interval"
    return StratifiedEstimate(estimate, (min(lo, estimate), max(hi, estimate)), sum(n for _, n, _ in live), method)
