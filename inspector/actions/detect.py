"""Detect: a pair's detectors over every rollout of a session, then the prompt topics the lexicon only guessed
settled by the base model's probe, the same way after a run, an import, a re-detect from the app or the shell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.detect.detector_set import DetectorSet
from inspector.engine.pair_spec import Pair
from inspector.errors import InspectorError
from inspector.store import Store


@dataclass(frozen=True)
class Detected:
    """What a detection pass did: rollouts scanned, prompt topics settled, and the session's flags after it."""

    scanned: int
    judged: int
    flags: dict[str, int]


def settle_topics(store: Store, pair: Pair, cache: Path) -> int:
    """Settle every lexicon-guessed prompt topic with the base model's probe (given topics are never touched);
    the probe is loaded only when some prompt needs it, and not at all for a base served over HTTP."""
    todo = store.guessed_prompts()
    if not todo:
        return 0
    from inspector.detect.topic import decide, topic_hint
    from inspector.engine.topic_probe import TopicProbe

    probe = TopicProbe.for_pair(pair, cache)
    if probe is None:
        return 0
    try:
        probs = probe.probabilities([text for _, text in todo])
    finally:
        probe.close()
    store.set_prompt_topics([(pid, decide(topic_hint(t), p), p) for (pid, t), p in zip(todo, probs, strict=True)])
    return len(todo)


def detect_session(
    store: Store,
    pair: Pair,
    cache: Path,
    detectors: DetectorSet | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> Detected:
    """Re-detect every rollout (each detector replaces the spans of its kind) and settle guessed topics. A caller
    that holds the pair's detectors already (the app: its corpus index is built once) passes them in; a caller
    without threads of its own (the command line) may detect in `workers` processes."""
    detectors = detectors or DetectorSet.for_pair(pair, cache)
    scanned = detectors.rerun(store, on_progress, workers=workers)
    judged = settle_topics(store, pair, cache)
    return Detected(scanned, judged, store.flag_counts())


def pair_of_session(store: Store, name: str | None) -> str:
    """The pair named, else the session's only pair: imported rollouts carry none of their own, so a session of
    several pairs, or of imports alone, needs one named."""
    if name is not None:
        return name
    pairs = [p for p in store.run_pairs() if p != "import"]
    if len(pairs) != 1:
        held = f"runs of {len(pairs)} pairs ({', '.join(pairs)})" if pairs else "only imported rollouts"
        raise InspectorError(f"{store.path}: holds {held}; give --pair PAIR")
    return pairs[0]
