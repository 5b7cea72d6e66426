"""IFEval use cases: score responses made anywhere against an input file; run a pair over a set and score it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.actions.rollouts import Progress, run_batch
from inspector.analysis.degenerate_rates import degenerate_figures
from inspector.analysis.ifeval.scoring import Scored, score
from inspector.analysis.ifeval.summary import ifeval_figures
from inspector.config import PACKAGE_DIR
from inspector.engine.base import Backend, GenParams
from inspector.engine.pair_spec import Pair
from inspector.formats.ifeval_files import IfevalPrompt, IfevalResponse, read_input_data, read_responses
from inspector.formats.prompt_files import with_system
from inspector.store import PromptRow, Store, prompt_id


@dataclass(frozen=True)
class ScoreTotals:
    n_responses: int
    prompt_strict: float
    prompt_loose: float
    instruction_strict: float
    instruction_loose: float


# Below this many responses a second process costs more (its start, langdetect's profiles) than it saves.
PARALLEL_FROM = 400


def _score_one(item: tuple[IfevalPrompt, IfevalResponse]) -> Scored:
    prompt, response = item
    return score(response.response, prompt.instructions)


def score_files(input_data: Path, responses: Path, workers: int | None = None) -> Iterator[tuple[IfevalPrompt, Scored]]:
    """Every response scored in file order; both files are read and checked in full before the first verdict.
    Many responses are shared among the CPU's cores (the checks are pure, so the verdicts are the same)."""
    pairs = read_responses(responses, read_input_data(input_data))
    n = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if n <= 1 or len(pairs) < PARALLEL_FROM:
        for pair in pairs:
            yield pair[0], _score_one(pair)
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield from zip((p for p, _ in pairs), pool.map(_score_one, pairs, chunksize=64), strict=True)


def totals(scored: list[Scored]) -> ScoreTotals:
    verdicts = [v for s in scored for v in s.instructions]
    n, m = max(len(scored), 1), max(len(verdicts), 1)
    return ScoreTotals(
        len(scored),
        sum(s.strict for s in scored) / n,
        sum(s.loose for s in scored) / n,
        sum(v.strict for v in verdicts) / m,
        sum(v.loose for v in verdicts) / m,
    )


@dataclass(frozen=True)
class IfevalRun:
    run_id: str
    progress: Progress
    figures: dict[str, Any]
    inputs: dict[str, Any]


DEFAULT_SET = PACKAGE_DIR / "data" / "ifeval_prompts.jsonl"
PROMPT_SET = "ifeval"


def ifeval_rows(prompts: list[IfevalPrompt], system: str | None) -> list[PromptRow]:
    rows = [PromptRow(prompt_id(p.prompt), p.prompt, prompt_set=PROMPT_SET, ext_id=str(p.key)) for p in prompts]
    return with_system(rows, system)


def run_ifeval(
    store: Store,
    pair: Pair,
    backends: dict[str, Backend],
    input_data: Path,
    prompts: list[IfevalPrompt],
    params: GenParams,
    system: str | None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> IfevalRun:
    """Both models' responses to every prompt as a resumable run (a rerun makes only the missing ones), then
    every response scored (and checked for degenerate text) and the figures kept as the session's newest "ifeval"
    snapshot. The rollouts are
    stored unscanned, so the leak figures of `run` are not changed by them."""
    rows = ifeval_rows(prompts, system)
    run_id, prog = run_batch(store, pair, backends, rows, params, 1, on_progress, should_stop)
    by_row = {r.id: p for r, p in zip(rows, prompts, strict=True)}
    by_role: dict[str, dict[str, Scored]] = {}
    texts: dict[str, dict[str, tuple[str, str | None]]] = {}
    for pid, role, text, trace in store.run_texts(run_id):
        if pid in by_row:
            by_role.setdefault(role, {})[pid] = score(text, by_row[pid].instructions)
            texts.setdefault(role, {})[pid] = (text, trace)
    # The same answers, free text from both models on the same prompts, are where degenerate text shows.
    figures = ifeval_figures(pair.name, by_role) | {"degenerate": degenerate_figures(pair.name, texts)}
    inputs = {
        "pair": pair.name,
        "run_id": run_id,
        "input_data": str(input_data),
        "input_sha256": hashlib.sha256(input_data.read_bytes()).hexdigest(),
        "n_prompts": len(prompts),
        "system_prompt": system,
        **params.as_dict(),
    }
    store.save_snapshot("ifeval", inputs, figures)
    return IfevalRun(run_id, prog, figures, inputs)
