"""Sweep: the organism at several adapter strengths over everyday prompts and the pair's probes, each strength
against the same base rollouts, resumable like a run, optionally with the naturalness panel at each strength; the
results kept in the session as a "sweep" snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inspector.actions.naturalness import PanelInputs, measure_naturalness
from inspector.actions.run import run_rollouts
from inspector.analysis.panel import BaseHalf, Progress
from inspector.analysis.strength import DEFAULT_SCALES, DEFAULT_TARGET
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import Backend, GenParams
from inspector.engine.pair_spec import Pair
from inspector.errors import InspectorError
from inspector.store import PromptRow, Store


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will do, every input checked: strengths in the order swept, the everyday prompts and the
    probes, the generation settings, and the panel's inputs when the panel is measured at each strength."""

    pair: Pair
    scales: list[float]
    prompts: list[PromptRow]
    probes: list[PromptRow]
    prompts_source: str
    samples: int
    params: GenParams
    target: float
    panel: PanelInputs | None
    detectors: DetectorSet

    @property
    def every(self) -> list[PromptRow]:
        given = {q.id for q in self.prompts}
        return self.prompts + [p for p in self.probes if p.id not in given]

    @property
    def grid(self) -> int:
        """Rollouts in the whole sweep: the base, then each strength, over every prompt and sample."""
        return (1 + len(self.scales)) * len(self.every) * self.samples


def plan_sweep(
    pair: Pair,
    cache: Path,
    scales: str = DEFAULT_SCALES,
    prompts_file: Path | None = None,
    limit: int = 60,
    samples: int = 1,
    max_tokens: int = 96,
    seed: int = 0,
    target: float = DEFAULT_TARGET,
    panel: PanelInputs | None = None,
    system: str | None = None,
) -> SweepPlan:
    """Everything that can be wrong with a sweep's input, found before a model loads or the session is touched.
    `system`: the system prompt every prompt and probe is asked under (a chat pair's condition)."""
    from inspector.analysis.strength import check_sweepable, parse_scales
    from inspector.formats.prompt_files import load_prompts, make_prompt, with_system

    strengths = parse_scales(scales)
    if not 0 < target <= 1:
        raise InspectorError(f"--target must be a probe hit rate in (0, 1], not {target:g}")
    if limit < 1 or samples < 1 or max_tokens < 1:
        raise InspectorError("--limit, --samples and --max-tokens must be at least 1")
    check_sweepable(pair)
    prompts = load_prompts(prompts_file, pair.format)
    if prompts_file is None:
        prompts = [p for p in prompts if not p.related]  # everyday prompts: a lab's name there is a non-sequitur
    # Probes ask about the trained property itself: on-topic, so a name there is no leak.
    probes = with_system([make_prompt(text, "ai", f"probes:{pair.name}") for text in pair.probes], system)
    prompts = with_system(prompts, system)
    params = GenParams(seed=seed, temperature=0.7, top_p=0.95, max_tokens=max_tokens)
    source = str(prompts_file or "default set, everyday prompts")
    # The detectors too: a bad corpus or term list is found here, not after the models have loaded.
    detectors = DetectorSet.for_pair(pair, cache)
    return SweepPlan(pair, strengths, prompts[:limit], probes, source, samples, params, target, panel, detectors)


def sweep_backends(plan: SweepPlan, cache: Path) -> dict[str, Backend]:
    """The base and the organism at the first strength. Loaded before the session is opened, so a model that
    cannot load leaves the session as it was."""
    from inspector.engine.registry import open_pair

    first = replace(plan.pair, organism=replace(plan.pair.organism, adapter_scale=plan.scales[0]))
    return open_pair(first, cache)


class Strength:
    """The organism at each strength of a sweep: in-process, a new context on the same weights (kept loaded
    between strengths), the previous one closed; served, the same replicas asked with another lora scale."""

    def __init__(self, organism: Backend) -> None:
        from inspector.engine.batched import BatchedBackend

        self.current = organism
        # plan_sweep made sure the organism is a GGUF with an adapter or served with a lora_id.
        self.shared = organism.shared if isinstance(organism, BatchedBackend) else None
        if self.shared is not None:
            self.shared.acquire()

    def at(self, scale: float) -> Backend:
        from inspector.engine.batched import BatchedBackend
        from inspector.engine.openai_http import OpenAIBackend

        old = self.current
        if isinstance(old, BatchedBackend) and self.shared is not None:
            old.close()
            # The pair's own template and its arguments carry over (a chat pair's strengths differ in scale alone).
            self.current = BatchedBackend(
                self.shared,
                role="organism",
                use_adapter=True,
                adapter_scale=scale,
                prompt_format=old.prompt_format,
                template=old.template,
            )
        else:
            assert isinstance(old, OpenAIBackend)
            self.current = old.at_scale(scale)
        return self.current

    def release(self) -> None:
        if self.shared is not None:
            self.shared.release()


def run_sweep(
    store: Store,
    plan: SweepPlan,
    backends: dict[str, Backend],
    cache: Path,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any] | None:
    """The sweep over `backends` (from sweep_backends; the organism's context is replaced at each strength and
    closed here, the base is the caller's); returns the sweep, or None when stopped (what finished is kept, and a
    rerun resumes)."""
    from inspector.analysis.strength import point, recommend, with_panel

    step = on_progress or (lambda _s, _d, _t: None)
    stop = should_stop or (lambda: False)
    base, organism = backends["base"], backends["organism"]
    strength = Strength(organism)
    probe_ids = [p.id for p in plan.probes]
    points: list[dict[str, Any]] = []
    offset = 0
    try:

        def one(label: str, pair_at: Pair, side: dict[str, Backend]) -> str:
            nonlocal offset
            done = run_rollouts(
                store,
                pair_at,
                side,
                plan.every,
                plan.params,
                cache=cache,
                detectors=plan.detectors,
                samples=plan.samples,
                on_progress=lambda p: step(label, offset + p.skipped + p.done, plan.grid),
                should_stop=stop,
            )
            offset += done.progress.skipped + done.progress.total
            return done.run_id

        base_run = one("base", plan.pair, {"base": base})
        base_half = BaseHalf()  # the base's share of the panel, measured at the first strength only
        points.append(point(None, store.run_counts(base_run, probe_ids)))
        for k, scale in enumerate(plan.scales):
            if stop():
                return None
            if k:
                organism = backends["organism"] = strength.at(scale)  # the caller closes what is there at the end
            pair_at = replace(plan.pair, organism=replace(plan.pair.organism, adapter_scale=scale))
            run_id = one(f"scale {scale:g}", pair_at, {"organism": organism})
            row = point(scale, store.run_counts(run_id, probe_ids))
            if plan.panel is not None:
                step(f"scale {scale:g}: naturalness panel", offset, plan.grid)
                panel = measure_naturalness(
                    plan.pair, {"organism": organism, "base": base}, plan.panel, None, base_half
                )
                row = with_panel(row, panel)
            points.append(row)
    finally:
        strength.release()
    if stop():
        return None
    sweep = {
        "pair": plan.pair.name,
        "target": plan.target,
        "points": points,
        "recommended": recommend(points, plan.target),
    }
    inputs = {
        "pair": plan.pair.name,
        "scales": plan.scales,
        "prompts": plan.prompts_source,
        "n_prompts": len(plan.prompts),
        "probes": list(plan.pair.probes),
        "samples": plan.samples,
        "params": plan.params.as_dict(),
        "naturalness": plan.panel is not None,
        "base": base.info().as_dict(),
    }
    store.save_snapshot("sweep", inputs, sweep)
    return sweep
