"""IFEval use cases: score responses made anywhere against an input file (more to come: a pair's run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inspector.analysis.ifeval.scoring import Scored, score
from inspector.formats.ifeval_files import IfevalPrompt, IfevalResponse, read_input_data, read_responses


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
