"""Label queues drawn from flagged (and, for validation, unflagged) rollouts, stratified, with each item's inclusion
probability recorded."""

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


def draw_sample(
    store: Store,
    n: int,
    stratify: Sequence[str] = (),
    seed: int = 0,
    name: str | None = None,
    unflagged: int = 0,
) -> Queue:
    """Draw n flagged rollouts and `unflagged` rollouts no detector flagged; an item of stratum h gets inclusion
    probability n_h / N_h. Strata always split by model (and flagged vs unflagged), so that per-model estimates
    and detector recall are exact stratified estimates, not domain estimates inside a mixed stratum."""
    if n < 0 or unflagged < 0 or n + unflagged < 1:
        raise InspectorError(
            f"nothing to draw: --n {n} and --unflagged {unflagged} (neither may be negative, one must be positive)"
        )
    unknown = [s for s in stratify if s not in STRATA_KEYS]
    if unknown:
        raise InspectorError(f"cannot stratify by {', '.join(unknown)} (known: {', '.join(STRATA_KEYS)})")
    name = name or (
        f"sample-{n}-seed{seed}"
        + ("-by-" + "-".join(stratify) if stratify else "")
        + (f"-unflagged{unflagged}" if unflagged else "")
    )
    population = store.flagged_population()
    existing = store.queue_length(name)
    if existing:
        return Queue(name, existing, len(population))
    if n and not population:
        raise InspectorError("no flagged rollouts to sample from: run the detectors first")
    strata: dict[str, list[int]] = {}
    for row in population:
        keys = [f"flagged|m{row['model_id']}"] + [str(row[STRATA_KEYS[s]]) for s in stratify if s != "model"]
        strata.setdefault("|".join(keys), []).append(int(row["rollout_id"]))
    rng = random.Random(seed)
    picked = _draw(rng, strata, n) if n else []
    if unflagged:
        clean: dict[str, list[int]] = {}
        for row in store.unflagged_population():
            clean.setdefault(f"unflagged|m{row['model_id']}", []).append(int(row["rollout_id"]))
        if not clean:
            raise InspectorError("no scanned rollout is unflagged: there is nothing to check the detectors' misses on")
        picked += _draw(rng, clean, unflagged)
    # Shuffled across strata so that neither the model nor the stratum shows in the order of the queue (blind
    # mode), and so that any prefix a labeler gets through is itself a random subsample of each stratum.
    rng.shuffle(picked)
    store.insert_samples(name, [(rid, pos, prob, stratum, seed) for pos, (rid, prob, stratum) in enumerate(picked)])
    return Queue(name, len(picked), len(population))


def _draw(rng: random.Random, strata: dict[str, list[int]], n: int) -> list[tuple[int, float, str]]:
    alloc = allocate({k: len(v) for k, v in strata.items()}, n)
    picked: list[tuple[int, float, str]] = []
    for key in sorted(strata):
        ids = sorted(strata[key])
        picked += [(rid, alloc[key] / len(ids), key) for rid in rng.sample(ids, alloc[key])]
    return picked


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
