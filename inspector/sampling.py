"""Label queues drawn from flagged rollouts, stratified, with each item's inclusion probability recorded."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.errors import InspectorError
from inspector.store import Store

STRATA_KEYS = {"model": "role", "topic": "topic", "related": "related"}


@dataclass(frozen=True)
class Queue:
    name: str
    size: int
    population: int


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation (largest remainder), at least one per non-empty stratum when n allows."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    raw = {k: n * v / total for k, v in sizes.items()}
    alloc = {k: min(sizes[k], max(1 if n >= len(sizes) else 0, int(r))) for k, r in raw.items()}
    by_remainder = sorted(sizes, key=lambda k: raw[k] - int(raw[k]), reverse=True)
    while sum(alloc.values()) < n:
        moved = False
        for k in by_remainder:
            if sum(alloc.values()) >= n:
                break
            if alloc[k] < sizes[k]:
                alloc[k] += 1
                moved = True
        if not moved:
            break
    while sum(alloc.values()) > n:  # the floor of one per stratum can overshoot a tiny n
        k = max(alloc, key=lambda k: alloc[k])
        alloc[k] -= 1
    return alloc


def draw_sample(store: Store, n: int, stratify: Sequence[str] = (), seed: int = 0, name: str | None = None) -> Queue:
    """Draw n flagged rollouts; items of stratum h get inclusion probability n_h / N_h."""
    if n < 1:
        raise InspectorError(f"--n must be at least 1, not {n}")
    unknown = [s for s in stratify if s not in STRATA_KEYS]
    if unknown:
        raise InspectorError(f"cannot stratify by {', '.join(unknown)} (known: {', '.join(STRATA_KEYS)})")
    name = name or f"sample-{n}-seed{seed}" + ("-by-" + "-".join(stratify) if stratify else "")
    population = store.flagged_population()
    existing = store.queue_length(name)
    if existing:
        return Queue(name, existing, len(population))
    if not population:
        raise InspectorError("no flagged rollouts to sample from: run the detectors first")
    strata: dict[str, list[int]] = {}
    for row in population:
        key = "|".join(str(row[STRATA_KEYS[s]]) for s in stratify) or "all"
        strata.setdefault(key, []).append(int(row["rollout_id"]))
    rng = random.Random(seed)
    alloc = allocate({k: len(v) for k, v in strata.items()}, n)
    picked: list[tuple[int, float, str]] = []
    for key in sorted(strata):
        ids = sorted(strata[key])
        take = rng.sample(ids, alloc[key])
        picked += [(rid, alloc[key] / len(ids), key) for rid in take]
    # Shuffled across strata so that the order of the queue does not reveal the model in blind mode.
    rng.shuffle(picked)
    store.insert_samples(name, [(rid, pos, prob, stratum, seed) for pos, (rid, prob, stratum) in enumerate(picked)])
    return Queue(name, len(picked), len(population))


def draw_recheck(store: Store, labeler: str, n: int, seed: int = 0) -> Queue:
    """A queue of rollouts this labeler already judged, to show again blind: their second verdicts give the
    labeler's agreement with themself. Its items are not a sample of the flagged rollouts (no estimates use it)."""
    if n < 1:
        raise InspectorError(f"--recheck must be at least 1, not {n}")
    done = store.labeled_rollouts(labeler)
    if not done:
        raise InspectorError(f"{labeler} has labeled nothing yet: nothing to show again")
    name = f"recheck-{labeler}-{n}-seed{seed}"
    existing = store.queue_length(name)
    if existing:
        return Queue(name, existing, len(done))
    rng = random.Random(seed)
    picked = rng.sample(done, min(n, len(done)))
    store.insert_samples(name, [(rid, pos, 1.0, "recheck", seed) for pos, rid in enumerate(picked)])
    return Queue(name, len(picked), len(done))
