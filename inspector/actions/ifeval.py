"""IFEval use cases: score responses made anywhere against an input file (more to come: a pair's run)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from inspector.analysis.ifeval.scoring import Scored, score
from inspector.formats.ifeval_files import IfevalPrompt, read_input_data, read_responses


@dataclass(frozen=True)
class ScoreTotals:
    n_responses: int
    prompt_strict: float
    prompt_loose: float
    instruction_strict: float
    instruction_loose: float


def score_files(input_data: Path, responses: Path) -> Iterator[tuple[IfevalPrompt, Scored]]:
    """Every response scored in file order; both files are read and checked in full before the first verdict."""
    pairs = read_responses(responses, read_input_data(input_data))
    for prompt, response in pairs:
        yield prompt, score(response.response, prompt.instructions)


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
