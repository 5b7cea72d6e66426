"""Headless batch runs: both models of a pair over a prompt set, resumable, with a batch plan fixed per run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from inspector.actions.window_landing import WindowLanding
from inspector.analysis.reasoning import THINK, Reasoning
from inspector.engine.base import (
    BATCH,
    CONTINUOUS,
    ROLES,
    UNORDERED,
    Backend,
    BatchBackend,
    Chat,
    ContinuousBackend,
    EngineError,
    Generation,
    GenParams,
    UnorderedBackend,
)
from inspector.engine.openai_http import EndpointDown
from inspector.engine.pair_spec import Pair
from inspector.engine.templates import ChatTemplate
from inspector.errors import InspectorError
from inspector.store import PromptRow, Store


@dataclass
class Progress:
    """What a progress display needs after each rollout (a served side's requests too, while it runs)."""

    done: int
    total: int
    skipped: int
    tokens: int
    seconds: float
    errors: int
    in_flight: int = 0  # requests a served side has out now
    limit: int = 0  # its cap on them now (lower than the ceiling while a server sheds load)
    retries: int = 0  # requests sent again: a replica gone, a server overloaded

    @property
    def rate(self) -> float:
        """Rollouts per second so far."""
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds to go at the rate so far (None before the first rollout)."""
        return (self.total - self.done) / self.rate if self.rate else None


# What landed for one rollout: its prompt, sample, side, seed, and the text (or the failure).
Landed = tuple[PromptRow, int, str, int, Generation | EngineError]
# A served side's answers are stored together this often (a commit per answer would cost more than the answer).
FLUSH_EVERY = 0.25


def rollout_seed(seed: int, prompt_id: str, sample: int) -> int:
    """Both models get the same seed for a prompt and sample; different samples get different seeds."""
    digest = hashlib.sha256(f"{seed}:{prompt_id}:{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def chat_of(prompt: PromptRow) -> Chat:
    """What a backend is given for a stored prompt: its text, after its system prompt and earlier turns."""
    turns = json.loads(prompt.messages) if prompt.messages else []
    return Chat(prompt.text, tuple((str(t["role"]), str(t["content"])) for t in turns))


def format_warning(pair: Pair, backends: dict[str, Backend]) -> str | None:
    """One line when a raw-format pair's GGUF carries a chat template: a chat model given bare text rambles, and
    can look fried for that alone."""
    roles = [r for r, b in backends.items() if b.info().chat_template_sha256]
    if pair.format != "raw" or not roles:
        return None
    return (
        f"pair '{pair.name}' runs in raw format, but the {' and '.join(roles)} GGUF carries a chat template:"
        ' a chat model given bare text can look fried for that alone (set format = "chat")'
    )


def reasoning_for(pair: Pair, backends: dict[str, Backend]) -> Reasoning | None:
    """The run's reasoning markers: the pair's, else <think>/</think> when a side's chat template mentions them; and
    whether the template opens the trace itself (then every text starts inside it). None: no reasoning."""
    if pair.format != "chat":
        return None
    templates = [t for b in backends.values() if isinstance(t := getattr(b, "template", None), ChatTemplate)]
    markers = pair.reasoning or (THINK if any(THINK[0] in t.source for t in templates) else None)
    if markers is None:
        return None
    return Reasoning(markers[0], markers[1], any(t.opens(markers[0]) for t in templates))


def trace_columns(setting: Reasoning | None, text: str) -> dict[str, Any]:
    """A rollout's reasoning columns: where its trace and answer are and the trace's status (none without markers)."""
    if setting is None:
        return {}
    split = setting.split(text)
    return {
        "reasoning_status": split.status,
        "reasoning_start": split.reasoning_start,
        "reasoning_end": split.reasoning_end,
        "answer_start": split.answer_start,
    }


def check_prompts(backends: dict[str, Backend], prompts: Sequence[PromptRow]) -> None:
    """Render every distinct conversation on each side that renders locally, so a template that cannot render one
    (a system role it refuses, a missing argument) is an error before a run writes anything."""
    for backend in backends.values():
        render = getattr(backend, "render", None)
        if callable(render):
            for chat in {chat_of(p) for p in prompts}:
                render(chat)


def systems_of(prompts: Sequence[PromptRow]) -> list[str]:
    """The system prompts a run's prompts are under: the run's conditions."""
    return sorted({s for p in prompts if (s := chat_of(p).system) is not None})


def run_id_for(pair: Pair, model_ids: dict[str, str], params: GenParams, systems: Sequence[str] = ()) -> str:
    # Limit and sample count are left out: a larger rerun extends the same run instead of starting anew. A run
    # under a system prompt is a run of its own (left out of the key when there is none, so older ids stand).
    spec: dict[str, Any] = {"pair": pair.name, "models": model_ids, "format": pair.format, **params.as_dict()}
    if systems:
        spec["system_prompts"] = list(systems)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def register_models(store: Store, pair: Pair, backends: dict[str, Backend]) -> dict[str, str]:
    ids = {}
    for role, backend in backends.items():
        info = backend.info().as_dict()
        scale = info.get("adapter_scale")
        # A scaled organism is named with its strength, so reports tell the scales of a sweep apart.
        info["name"] = f"{pair.name}/{role}" + (f"@{scale:g}" if scale is not None and scale != 1.0 else "")
        ids[role] = store.upsert_model(info)
    return ids


def model_provenance(store: Store, pair: Pair, backends: dict[str, Backend]) -> dict[str, dict[str, Any]]:
    """Each side's model as a snapshot records it: its provenance and its id in the session (registered here)."""
    ids = register_models(store, pair, backends)
    return {role: b.info().as_dict() | {"id": ids[role]} for role, b in backends.items()}


# Prompts per window, in slots: the batched engine refills a slot as soon as its sequence ends (continuous
# batching), so a window of several slots' worth of prompts keeps the slots busy, and only its last sequences run
# with holes. A larger window leaves fewer such tails but makes a resumed run redo more.
WINDOW = 4


def batch_size(backend: Backend) -> int | None:
    """How many prompts a backend decodes together: the batched engine's n_seq, else one at a time; None for a
    served side, whose requests are in flight without batches."""
    if UNORDERED in backend.capabilities:
        return None
    return cast(BatchBackend, backend).n_seq if BATCH in backend.capabilities else 1


def window_size(backend: Backend) -> int | None:
    """How many prompts a backend is given at once: WINDOW slots' worth for continuous batching, else a batch."""
    n = batch_size(backend)
    return n * WINDOW if n is not None and CONTINUOUS in backend.capabilities else n


def run_batch(
    store: Store,
    pair: Pair,
    backends: dict[str, Backend],
    prompts: Sequence[PromptRow],
    params: GenParams,
    samples: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    after_rollout: Callable[[int, str, str], None] | None = None,
) -> tuple[str, Progress]:
    """Generate every missing (prompt, sample, model) rollout; returns the run id and final progress."""
    model_ids = register_models(store, pair, backends)
    systems = systems_of(prompts)
    run_id = run_id_for(pair, model_ids, params, systems)
    settings: dict[str, Any] = {
        **params.as_dict(),
        "samples": samples,
        "prompt_format": pair.format,
        "system_prompts": systems,
        "warnings": [w] if (w := format_warning(pair, backends)) else [],
        "reasoning": (reasoning := reasoning_for(pair, backends)) and reasoning.as_settings(),
        "backend": ",".join(sorted({type(b).__name__ for b in backends.values()})),
        "batch": max((n for b in backends.values() if (n := batch_size(b)) is not None), default=None),
        "window": max((n for b in backends.values() if (n := window_size(b)) is not None), default=None),
    }
    store.ensure_run(run_id, pair.name, settings)
    kept = store.run_settings(run_id)
    before = kept.get("batch", settings["batch"])
    if settings["batch"] is not None and before != settings["batch"]:
        # Another batch size would give other texts than the run already holds (see the batch plan below).
        raise InspectorError(f"run {run_id} was made with {before} prompts per batch; resume it with --batch {before}")
    # A run made before windows (static batches) keeps its batches as the unit of its plan.
    window = kept.get("window", before)
    store.upsert_prompts(prompts)
    done = store.done_keys(run_id)
    # The batch plan is fixed by the prompt order alone: consecutive (prompt, sample) items, `step` per window,
    # each window decoded by continuous batching on `batch` slots with a schedule that depends on nothing else.
    # A resumed run decodes an unfinished window again whole and keeps only its missing rollouts, so every text
    # comes from the same schedule as in an uninterrupted run (llama.cpp's logits, and so the sampled text, can
    # move with the sequences that share a decode). A served side has no plan: its requests are in flight with no
    # barrier, and each missing rollout is simply asked for again.
    items = [(p, s) for p in prompts for s in range(samples)]
    plan: list[tuple[str, list[tuple[PromptRow, int]], set[int]]] = []
    for role in ROLES:
        backend = backends.get(role)
        if backend is None:
            continue
        step = window_size(backend)
        if step is not None and CONTINUOUS in backend.capabilities:
            step = window  # the run's, as recorded when it began
        if step is None:
            todo = [(p, s) for p, s in items if (p.id, model_ids[role], s) not in done]
            if todo:
                plan.append((role, todo, set(range(len(todo)))))
            continue
        for at in range(0, len(items), step):
            chunk = items[at : at + step]
            missing = {k for k, (p, s) in enumerate(chunk) if (p.id, model_ids[role], s) not in done}
            if missing:
                plan.append((role, chunk, missing))
    total = sum(len(m) for _, _, m in plan)
    prog = Progress(
        done=0,
        total=total,
        skipped=len(items) * len(backends) - total,
        tokens=0,
        seconds=0.0,
        errors=0,
    )

    def record(landed: Sequence[Landed]) -> None:
        """Store rollouts that landed, together (one transaction), then measure them."""
        rows: list[tuple[PromptRow, dict[str, Any]]] = []
        for prompt, sample, role, seed, gen in landed:
            row: dict[str, Any] = {
                "run_id": run_id,
                "prompt_id": prompt.id,
                "model_id": model_ids[role],
                "sample_index": sample,
                "seed": seed,
            }
            if isinstance(gen, EngineError):
                # A per-rollout failure (such as a prompt longer than the context) is kept, and the run goes on.
                row["error"] = str(gen)
                prog.errors += 1
            elif gen.finish_reason == "cancelled":
                continue  # a partial text is not a rollout; a rerun makes it
            else:
                row.update(
                    text=gen.text,
                    prompt_tokens=gen.prompt_tokens,
                    completion_tokens=gen.completion_tokens,
                    finish_reason=gen.finish_reason,
                    seconds=gen.seconds,
                    **trace_columns(reasoning, gen.text),
                )
                prog.tokens += gen.completion_tokens
            rows.append((prompt, row))
        ids = store.insert_rollouts([row for _, row in rows])
        for (prompt, row), rid in zip(rows, ids, strict=True):
            if rid is not None and after_rollout is not None and "error" not in row:
                after_rollout(rid, prompt.text, row["text"])
        prog.done += len(rows)

    for role, chunk, missing in plan:
        backend = backends[role]
        if should_stop is not None and should_stop():
            return run_id, prog
        seeds = [rollout_seed(params.seed, p.id, s) for p, s in chunk]
        gp = [GenParams(seed, params.temperature, params.top_p, params.max_tokens) for seed in seeds]
        if UNORDERED in backend.capabilities:
            stream_served(
                cast(UnorderedBackend, backend), role, chunk, seeds, gp, prog, record, on_progress, should_stop
            )
            continue
        landing = WindowLanding(role, chunk, missing, seeds, record, prog, on_progress)
        gens: list[Generation | EngineError]
        if CONTINUOUS in backend.capabilities:
            prompts_of = [chat_of(p) for p, _ in chunk]
            gens = cast(ContinuousBackend, backend).generate_many(prompts_of, gp, None, should_stop, landing.ended)
        elif BATCH in backend.capabilities:
            gens = cast(BatchBackend, backend).generate_many([chat_of(p) for p, _ in chunk], gp, None, should_stop)
        else:
            try:
                gens = [backend.generate(chat_of(chunk[0][0]), gp[0], None, should_stop)]
            except EngineError as e:
                gens = [e]
        down = [g for g in gens if isinstance(g, EndpointDown)]
        landing.store_rest(gens)
        if down:
            # The server went away: keep what finished and stop; a rerun resumes from here.
            raise down[0]
        if on_progress is not None:
            on_progress(prog)
    return run_id, prog


def stream_served(
    backend: UnorderedBackend,
    role: str,
    items: Sequence[tuple[PromptRow, int]],
    seeds: Sequence[int],
    params: Sequence[GenParams],
    prog: Progress,
    record: Callable[[Sequence[Landed]], None],
    on_progress: Callable[[Progress], None] | None,
    should_stop: Callable[[], bool] | None,
) -> None:
    """A served side's missing rollouts, requested all at once under its cap in flight, stored as they land a few
    times a second (and whatever landed when the run stops, however it stops); progress as often, and at the end."""
    t0 = time.perf_counter()
    start_seconds = prog.seconds
    retries_before = prog.retries - backend.load().retries
    flushed = 0.0
    landed: list[Landed] = []
    answers = backend.generate_unordered([chat_of(p) for p, _ in items], params, should_stop)
    try:
        with contextlib.closing(answers):  # a stopped or interrupted run cancels what is still in flight
            for i, gen in answers:
                if isinstance(gen, EndpointDown):
                    raise gen  # no replica answers: keep what finished and stop; a rerun resumes from here
                p, s = items[i]
                landed.append((p, s, role, seeds[i], gen))
                now = time.perf_counter()
                if now - flushed >= FLUSH_EVERY:
                    flushed = now
                    batch, landed = landed, []
                    record(batch)
                    if on_progress is not None:
                        on_progress(_with_load(prog, backend, start_seconds + now - t0, retries_before))
    finally:
        if landed:
            record(landed)
    _with_load(prog, backend, start_seconds + time.perf_counter() - t0, retries_before)
    if on_progress is not None:
        on_progress(prog)


def _with_load(prog: Progress, backend: UnorderedBackend, seconds: float, retries_before: int) -> Progress:
    load = backend.load()
    prog.seconds, prog.in_flight, prog.limit = seconds, load.in_flight, load.limit
    prog.retries = retries_before + load.retries  # both sides' retries, when both are served
    return prog
