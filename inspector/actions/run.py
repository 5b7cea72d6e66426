"""Run: both models of a pair over a prompt set, resumable, each rollout's spans stored as it lands, then the
prompt topics settled as `detect` settles them (so a run from the app and one from the shell measure alike)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inspector.actions.detect import settle_topics
from inspector.actions.rollouts import Progress, run_batch
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import Backend, GenParams
from inspector.engine.pair_spec import Pair
from inspector.store import PromptRow, Store


@dataclass(frozen=True)
class RunOutcome:
    """The run's id, its final progress, and how many prompt topics the probe settled after it."""

    run_id: str
    progress: Progress
    judged: int


def run_rollouts(
    store: Store,
    pair: Pair,
    backends: dict[str, Backend],
    prompts: Sequence[PromptRow],
    params: GenParams,
    *,
    cache: Path,
    detectors: DetectorSet | None,
    samples: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Every missing rollout of the run; with detectors (None: a run left unmeasured, as `run --no-detect`), each
    rollout's spans, then the guessed prompt topics settled by the base model's probe. A stopped run settles them
    too: its prompts are all in the session already, and a rerun only adds rollouts."""
    after = detectors.bind(store) if detectors is not None else None
    run_id, prog = run_batch(store, pair, backends, prompts, params, samples, on_progress, should_stop, after)
    judged = 0
    if detectors is not None:
        if on_stage is not None:
            on_stage("judging prompt topics")
        judged = settle_topics(store, pair, cache)
    return RunOutcome(run_id, prog, judged)
