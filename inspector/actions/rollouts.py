"""Headless batch runs: both models of a pair over a prompt set, resumable, with a batch plan fixed per run."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from inspector.analysis.reasoning import THINK, Reasoning
from inspector.engine.base import BATCH, ROLES, Backend, BatchBackend, Chat, EngineError, Generation, GenParams
from inspector.engine.openai_http import EndpointDown
from inspector.engine.registry import Pair
from inspector.engine.templates import ChatTemplate
from inspector.errors import InspectorError
from inspector.store import PromptRow, Store


@dataclass
class Progress:
    """What a progress display needs after each rollout."""

    done: int
    total: int
    skipped: int
    tokens: int
    seconds: float
    errors: int


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


def batch_size(backend: Backend) -> int:
    """How many prompts a backend decodes together: the batched engine's n_seq, else one at a time."""
    return cast(BatchBackend, backend).n_seq if BATCH in backend.capabilities else 1


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
        "batch": max(batch_size(b) for b in backends.values()),
    }
    store.ensure_run(run_id, pair.name, settings)
    before = store.run_settings(run_id).get("batch", settings["batch"])
    if before != settings["batch"]:
        # Another batch size would give other texts than the run already holds (see the batch plan below).
        raise InspectorError(f"run {run_id} was made with {before} prompts per batch; resume it with --batch {before}")
    store.upsert_prompts(prompts)
    done = store.done_keys(run_id)
    # The batch plan is fixed by the prompt order alone: consecutive (prompt, sample) items, `step` per batch.
    # A resumed run decodes an unfinished batch again whole and keeps only its missing rollouts, so every text
    # comes from the same batch composition as in an uninterrupted run (llama.cpp's logits, and so the sampled
    # text, can move with the batch a sequence shares).
    items = [(p, s) for p in prompts for s in range(samples)]
    plan: list[tuple[str, list[tuple[PromptRow, int]], set[int]]] = []
    for role in ROLES:
        backend = backends.get(role)
        if backend is None:
            continue
        step = batch_size(backend)
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

    def record(prompt: PromptRow, sample: int, role: str, seed: int, gen: Generation | EngineError) -> None:
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
            return  # a partial text is not a rollout; a rerun makes it
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
        rid = store.insert_rollout(row)
        if rid is not None and after_rollout is not None and "error" not in row:
            after_rollout(rid, prompt.text, row["text"])
        prog.done += 1

    for role, chunk, missing in plan:
        backend = backends[role]
        if should_stop is not None and should_stop():
            return run_id, prog
        seeds = [rollout_seed(params.seed, p.id, s) for p, s in chunk]
        gp = [GenParams(seed, params.temperature, params.top_p, params.max_tokens) for seed in seeds]
        t0 = time.perf_counter()
        gens: list[Generation | EngineError]
        if BATCH in backend.capabilities:
            gens = cast(BatchBackend, backend).generate_many([chat_of(p) for p, _ in chunk], gp, None, should_stop)
        else:
            try:
                gens = [backend.generate(chat_of(chunk[0][0]), gp[0], None, should_stop)]
            except EngineError as e:
                gens = [e]
        prog.seconds += time.perf_counter() - t0
        down = [g for g in gens if isinstance(g, EndpointDown)]
        for k, ((p, s), seed, gen) in enumerate(zip(chunk, seeds, gens, strict=True)):
            if k in missing and not isinstance(gen, EndpointDown):
                record(p, s, role, seed, gen)
        if down:
            # The server went away: keep what finished and stop; a rerun resumes from here.
            raise down[0]
        if on_progress is not None:
            on_progress(prog)
    return run_id, prog
