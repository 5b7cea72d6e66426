"""`inspector naturalness`: the seed's suite for a pair (perplexity on natural vs shuffled text, drift, decisiveness,
IFEval, multiple choice, degenerate text), or any subset of it with --only, each kept in the session."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from inspector.commands import add_system_args, emit, system_from_args
from inspector.config import Settings

if TYPE_CHECKING:
    from inspector.actions.suite import SuitePlan
    from inspector.engine.pair_spec import Pair


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "naturalness",
        help="the suite per model: perplexity natural vs shuffled, drift, decisiveness, IFEval, multiple choice,"
        " degenerate text",
        description="Runs every measure of the suite on both models of a pair (or those named by --only) and keeps"
        " each in the session; the Naturalness screen and `report --json` show them side by side.",
    )
    p.add_argument("--session", required=True, help="session name or .duckdb path (the results are kept there)")
    p.add_argument("--pair", default="demo", help="a pair named in the pairs file (default: demo)")
    p.add_argument(
        "--only",
        metavar="PARTS",
        help="comma-separated: perplexity, drift, decisiveness, ifeval, mcq, degenerate (degenerate text is"
        " measured on the IFEval answers; default: all)",
    )
    p.add_argument("--text", type=Path, help='JSONL lines {"id"?, "text"} (default: 50,000 words of Persuasion)')
    p.add_argument("--items", type=Path, help='JSONL lines {"id"?, "text"}: outcomes to compare (default: 60)')
    p.add_argument("--budget", type=int, help="pairs of items to ask (default: all pairs up to 60 items)")
    p.add_argument("--tokens", type=int, default=96, help="tokens scored per document (default: 96)")
    p.add_argument("--input-data", type=Path, help="IFEval's format (default: the project's 168 prompts)")
    p.add_argument("--max-tokens", type=int, default=96, help="new tokens per IFEval answer at most (default: 96)")
    p.add_argument("--questions", type=Path, help="multiple-choice JSONL, MMLU CSV or a directory of them")
    p.add_argument("--limit", type=int, help="only the first N IFEval prompts and N questions")
    p.add_argument("--seed", type=int, default=0, help="seed of the word shuffles, the intervals and IFEval's run")
    p.add_argument("--adapter-scale", type=float, help="strength of the organism's adapter, 0 to 4 (default: 1)")
    add_system_args(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=naturalness_command)


def naturalness_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.mcq import mcq_inputs
    from inspector.actions.naturalness import panel_inputs
    from inspector.actions.suite import PANEL_PARTS, SuitePlan, ifeval_inputs, parse_parts
    from inspector.engine.registry import resolve_pair

    # Inputs first: a bad file or option is one line before any model loads, and the session is not touched.
    parts = parse_parts(args.only)
    pair = resolve_pair(settings.models_file, args.pair, adapter_scale=args.adapter_scale)
    system = system_from_args(args, pair)
    panel = None
    if parts & PANEL_PARTS:
        panel = panel_inputs(args.text, args.items, args.tokens, args.seed, args.budget, system, parts & PANEL_PARTS)
    plan = SuitePlan(
        panel=panel,
        ifeval=ifeval_inputs(args.input_data, args.limit, args.max_tokens, args.seed)
        if parts & {"ifeval", "degenerate"}
        else None,
        mcq=mcq_inputs(args.questions, args.limit) if "mcq" in parts else None,
        parts=parts,
    )
    results = run_plan(settings, args.session, pair, system, plan)
    return emit(results, suite_lines(results), args.json)


def suite_lines(results: dict[str, Any]) -> list[str]:
    from inspector.analysis.ifeval.lines import ifeval_lines
    from inspector.analysis.mcq_lines import mcq_lines
    from inspector.analysis.naturalness_lines import naturalness_lines

    lines = naturalness_lines(results["naturalness"]) if "naturalness" in results else []
    lines += mcq_lines(results["mcq"]) if "mcq" in results else []
    return lines + (ifeval_lines(results["ifeval"]) if "ifeval" in results else [])


def run_plan(settings: Settings, session: str, pair: Pair, system: str | None, plan: SuitePlan) -> dict[str, Any]:
    """The plan on the pair with a progress bar on stderr; the results as `run_suite` gives them."""
    from inspector.actions.suite import run_suite, suite_backends
    from inspector.store import Store

    path = settings.session_path(session)
    Store.check_writable(path)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = suite_backends(pair, settings.cache, plan)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("suite", total=None)

            def show(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            results = run_suite(path, pair, backends, plan, system, show)
    finally:
        for b in backends.values():
            b.close()
    run = results.pop("ifeval_run", None)
    if run is not None:
        console.print(
            f"IFEval run {run.run_id}: {run.progress.done} new answers, {run.progress.skipped} already done,"
            f" {run.progress.errors} errors -> {path}",
            highlight=False,
            soft_wrap=True,
        )
    return results
