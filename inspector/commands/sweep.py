"""`inspector sweep`: the organism at several adapter strengths over everyday prompts and the pair's probes,
resumable like `run`, with the results kept in the session as a metric snapshot."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from inspector.analysis.strength import DEFAULT_SCALES, DEFAULT_TARGET
from inspector.commands import add_system_args, emit, system_from_args
from inspector.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sweep", help="the organism at several adapter strengths: leaks, probe hits, naturalness")
    p.add_argument("--session", required=True, help="session name or .duckdb path (the results are kept there)")
    p.add_argument("--pair", default="demo", help="a pair named in the pairs file, with an adapter and probes")
    p.add_argument("--scales", default=DEFAULT_SCALES, help=f"adapter strengths, 0 to 4 (default: {DEFAULT_SCALES})")
    p.add_argument("--prompts", type=Path, help="JSONL prompts (default: the shipped set's everyday prompts)")
    p.add_argument("--limit", type=int, default=60, help="only the first N prompts (default: 60)")
    p.add_argument("--samples", type=int, default=1, help="samples per prompt and strength")
    p.add_argument("--max-tokens", type=int, default=96, help="new tokens per rollout at most")
    p.add_argument("--seed", type=int, default=0, help="run seed; every strength gets the same seeds")
    p.add_argument("--naturalness", action="store_true", help="also the naturalness panel at each strength (slow)")
    p.add_argument("--text", type=Path, help="the panel's documents, as for `inspector naturalness`")
    p.add_argument("--items", type=Path, help="the panel's outcome items, as for `inspector naturalness`")
    p.add_argument("--tokens", type=int, default=96, help="the panel's tokens scored per document (default: 96)")
    p.add_argument(
        "--target",
        type=float,
        default=DEFAULT_TARGET,
        help=f"probe hit rate the recommended strength must reach (default: {DEFAULT_TARGET})",
    )
    add_system_args(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.naturalness import panel_inputs
    from inspector.actions.sweep import plan_sweep, run_sweep, sweep_backends
    from inspector.analysis.strength import sweep_lines
    from inspector.engine.registry import resolve_pair
    from inspector.errors import InspectorError
    from inspector.store import Store

    # Everything that can be wrong with the input is checked before a model loads or the session is touched.
    if not 8 <= args.tokens <= 512:
        raise InspectorError(f"--tokens must be between 8 and 512, not {args.tokens}")
    pair = resolve_pair(settings.models_file, args.pair)
    system = system_from_args(args, pair)
    panel = panel_inputs(args.text, args.items, args.tokens, args.seed, system=system) if args.naturalness else None
    plan = plan_sweep(
        pair,
        settings.cache,
        args.scales,
        args.prompts,
        args.limit,
        args.samples,
        args.max_tokens,
        args.seed,
        args.target,
        panel,
        system,
    )
    path = settings.session_path(args.session)
    Store.check_writable(path)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = sweep_backends(plan, settings.cache)
    try:
        with Store.open(path) as store:
            columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("sweep", total=plan.grid)

                def show(stage: str, done: int, total: int) -> None:
                    bar.update(task, description=stage, completed=done, total=total)

                sweep = run_sweep(store, plan, backends, settings.cache, show)
    finally:
        for b in backends.values():
            b.close()
    assert sweep is not None  # nothing stops a sweep from the shell but Ctrl-C, which does not return
    return emit(sweep, sweep_lines(sweep), args.json)
