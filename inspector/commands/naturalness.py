"""`inspector naturalness`: the naturalness panel for a pair, stored in a session as a metric snapshot."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from inspector.commands import add_system_args, emit, system_from_args
from inspector.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "naturalness",
        help="perplexity on natural vs shuffled text, drift from the base, preference coherence, per model",
    )
    p.add_argument("--session", required=True, help="session name or .duckdb path (the results are kept there)")
    p.add_argument("--pair", default="demo", help="a pair named in the pairs file (default: demo)")
    p.add_argument("--text", type=Path, help='JSONL lines {"id"?, "text"} (default: 50,000 words of Persuasion)')
    p.add_argument("--items", type=Path, help='JSONL lines {"id"?, "text"}: outcomes to compare (default: 60)')
    p.add_argument("--budget", type=int, help="pairs of items to ask (default: all pairs up to 60 items)")
    p.add_argument("--tokens", type=int, default=96, help="tokens scored per document (default: 96)")
    p.add_argument("--seed", type=int, default=0, help="seed of the word shuffles and the intervals")
    p.add_argument("--adapter-scale", type=float, help="strength of the organism's adapter, 0 to 4 (default: 1)")
    add_system_args(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=naturalness_command)


def naturalness_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.naturalness import keep_naturalness, measure_naturalness, panel_backends, panel_inputs
    from inspector.analysis.naturalness_lines import naturalness_lines
    from inspector.engine.registry import resolve_pair
    from inspector.store import Store

    # Inputs first: a bad file is one line before any model loads, and the session is not touched.
    pair = resolve_pair(settings.models_file, args.pair, adapter_scale=args.adapter_scale)
    system = system_from_args(args, pair)
    inputs = panel_inputs(args.text, args.items, args.tokens, args.seed, args.budget, system)
    path = settings.session_path(args.session)
    Store.check_writable(path)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = panel_backends(pair, settings.cache, inputs)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("naturalness", total=None)

            def show(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            panel = measure_naturalness(pair, backends, inputs, show)
        with Store.open(path) as store:
            keep_naturalness(store, pair, backends, inputs, panel)
    finally:
        for b in backends.values():
            b.close()
    return emit(panel, naturalness_lines(panel), args.json)
