"""`inspector mcq`: multiple-choice capability by the answer letters' log-likelihood, organism beside base."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.commands import add_system_args, emit, system_from_args
from inspector.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "mcq",
        help="multiple-choice accuracy by the answer letter's log-likelihood (as MMLU is scored), per model",
        description="Each question is asked with its lettered choices; the letter the model finds likeliest next "
        "is its answer. Accuracy per model with a Wilson interval, and organism minus base paired by question.",
    )
    p.add_argument("--session", required=True, help="session name or .duckdb path (the figures are kept there)")
    p.add_argument("--pair", default="demo", help="a pair named in the pairs file (default: demo)")
    p.add_argument(
        "--questions",
        type=Path,
        help="JSONL {question, choices, answer}, an MMLU CSV (question,A,B,C,D,answer) or a directory of them"
        " (default: the project's 220 questions over 11 subjects)",
    )
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_system_args(p)
    p.set_defaults(func=mcq_command)


def mcq_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.mcq import mcq_inputs
    from inspector.actions.suite import SuitePlan
    from inspector.analysis.mcq_lines import mcq_lines
    from inspector.commands.naturalness import run_plan
    from inspector.engine.registry import resolve_pair

    # Inputs first: a bad file or pair is one line before any model loads, and the session is not touched.
    inputs = mcq_inputs(args.questions, args.limit)
    pair = resolve_pair(settings.models_file, args.pair)
    system = system_from_args(args, pair)
    results = run_plan(settings, args.session, pair, system, SuitePlan(mcq=inputs, parts=frozenset({"mcq"})))
    return emit(results["mcq"], mcq_lines(results["mcq"]), args.json)
