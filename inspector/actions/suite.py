"""The seed's suite on a pair, any subset of it: perplexity on natural vs shuffled text, drift, preference
decisiveness, IFEval, multiple choice and degenerate text, each kept in the session as its own snapshot. Every
input is read and checked before a model loads, and every measure that needs no session runs before it is
written, so bad input or a failing endpoint leaves the session as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.actions.ifeval import DEFAULT_SET, ifeval_rows, run_ifeval
from inspector.actions.mcq import McqInputs, keep_mcq
from inspector.actions.naturalness import PanelInputs, keep_naturalness, measure_naturalness
from inspector.engine.base import Backend, GenParams
from inspector.engine.pair_spec import Pair
from inspector.errors import InspectorError
from inspector.formats.ifeval_files import IfevalPrompt, read_input_data
from inspector.store import Store

PARTS = ("perplexity", "drift", "decisiveness", "ifeval", "mcq", "degenerate")
PANEL_PARTS = frozenset({"perplexity", "drift", "decisiveness"})
Step = Callable[[str, int, int], None]


def parse_parts(text: str | None) -> frozenset[str]:
    """--only's comma-separated measures (all of them when not given); an unknown one is a one-line error."""
    if text is None:
        return frozenset(PARTS)
    asked = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in asked if w not in PARTS]
    if unknown or not asked:
        raise InspectorError(f"--only {text!r}: choose among {', '.join(PARTS)} (comma-separated)")
    return frozenset(asked)


@dataclass(frozen=True)
class IfevalInputs:
    path: Path
    prompts: list[IfevalPrompt]
    params: GenParams


def ifeval_inputs(path: Path | None, limit: int | None, max_tokens: int = 96, seed: int = 0) -> IfevalInputs:
    if limit is not None and limit < 1:
        raise InspectorError(f"--limit must be at least 1, not {limit}")
    if not 8 <= max_tokens <= 2048:
        raise InspectorError(f"--max-tokens must be between 8 and 2048, not {max_tokens}")
    source = path or DEFAULT_SET
    prompts = read_input_data(source)
    params = GenParams(seed=seed, temperature=0.0, top_p=1.0, max_tokens=max_tokens)
    return IfevalInputs(source, prompts[:limit] if limit else prompts, params)


@dataclass(frozen=True)
class SuitePlan:
    """What to measure: the panel's parts with its inputs, IFEval's prompts (which degenerate text also needs: it
    is measured on the IFEval answers), the multiple-choice questions."""

    panel: PanelInputs | None = None
    ifeval: IfevalInputs | None = None
    mcq: McqInputs | None = None
    parts: frozenset[str] = field(default_factory=frozenset)


def suite_backends(pair: Pair, cache: Path, plan: SuitePlan) -> dict[str, Backend]:
    """The pair's two sides, sized for what the plan runs: 32 sequences, each wide enough for a scored document
    and, when IFEval runs, for a prompt and its answer; multiple choice uses the whole context for one question.
    Loaded before the session is opened."""
    from inspector.engine.registry import open_pair

    tokens = plan.panel.settings.tokens if plan.panel else 64
    answer = 0 if plan.ifeval is None else 160 + plan.ifeval.params.max_tokens
    question = 0 if plan.mcq is None else 96  # 3,072 cells in all: MMLU's longest questions fit
    return open_pair(pair, cache, n_seq=32, ctx_per_seq=max(64, tokens, answer, question))


def run_suite(
    path: Path, pair: Pair, backends: dict[str, Backend], plan: SuitePlan, system: str | None, step: Step
) -> dict[str, Any]:
    """Each planned measure on the pair; returns {"naturalness", "mcq", "ifeval"} (those that ran)."""
    from inspector.actions.rollouts import check_prompts
    from inspector.analysis.mcq import run_mcq

    out: dict[str, Any] = {}
    if plan.ifeval is not None:
        check_prompts(backends, ifeval_rows(plan.ifeval.prompts, system))
    if plan.panel is not None:  # its settings already carry the system prompt (panel_inputs)
        out["naturalness"] = measure_naturalness(pair, backends, plan.panel, step)
    if plan.mcq is not None:
        out["mcq"] = run_mcq(pair.name, backends, plan.mcq.questions, system, step)
    with Store.open(path) as store:
        if plan.panel is not None:
            keep_naturalness(store, pair, backends, plan.panel, out["naturalness"])
        if plan.mcq is not None:
            keep_mcq(store, pair, backends, plan.mcq, system, out["mcq"])
        if plan.ifeval is not None:
            total = len(plan.ifeval.prompts) * len(backends)

            def show(p: Any) -> None:
                step("IFEval answers", p.done + p.skipped, total)

            done = run_ifeval(
                store, pair, backends, plan.ifeval.path, plan.ifeval.prompts, plan.ifeval.params, system, show
            )
            out["ifeval"] = done.figures
            out["ifeval_run"] = done
    return out
