"""`inspector sweep`: the organism at several adapter strengths over everyday prompts and the pair's probes,
resumable like `run`, with the results kept in the session as a metric snapshot."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from inspector.commands import emit
from inspector.config import Settings
from inspector.sweep import DEFAULT_SCALES, DEFAULT_TARGET


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
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.engine.base import GenParams
    from inspector.engine.batched import BatchedBackend
    from inspector.engine.registry import open_pair, resolve_pair
    from inspector.errors import InspectorError
    from inspector.naturalness import load_documents, load_items
    from inspector.panel import PanelSettings, run_panel
    from inspector.pipeline import DetectorSet
    from inspector.prompts import load_prompts, make_prompt
    from inspector.runner import Progress as RunProgress
    from inspector.runner import run_batch
    from inspector.store import Store
    from inspector.sweep import check_sweepable, parse_scales, point, recommend, sweep_lines, with_panel

    # Everything that can be wrong with the input is checked before a model loads or the session is touched.
    scales = parse_scales(args.scales)
    if not 0 < args.target <= 1:
        raise InspectorError(f"--target must be a probe hit rate in (0, 1], not {args.target:g}")
    if args.limit < 1 or args.samples < 1 or args.max_tokens < 1:
        raise InspectorError("--limit, --samples and --max-tokens must be at least 1")
    pair = resolve_pair(settings.models_file, args.pair)
    check_sweepable(pair)
    prompts = load_prompts(args.prompts)
    if args.prompts is None:
        prompts = [p for p in prompts if not p.related]  # everyday prompts: a lab's name there is a non-sequitur
    prompts = prompts[: args.limit]
    # Probes ask about the trained property itself: on-topic, so a name there is no leak.
    probes = [make_prompt(text, "ai", f"probes:{pair.name}") for text in pair.probes]
    probe_ids = [p.id for p in probes]
    given = {q.id for q in prompts}
    every = prompts + [p for p in probes if p.id not in given]
    docs, items = (load_documents(args.text), load_items(args.items)) if args.naturalness else ([], [])
    if not 8 <= args.tokens <= 512:
        raise InspectorError(f"--tokens must be between 8 and 512, not {args.tokens}")
    panel = PanelSettings(args.tokens, args.seed)
    path = settings.session_path(args.session)
    Store.check_writable(path)
    params = GenParams(seed=args.seed, temperature=0.7, top_p=0.95, max_tokens=args.max_tokens)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = open_pair(replace(pair, organism=replace(pair.organism, adapter_scale=scales[0])), settings.cache)
    base, first = backends["base"], backends["organism"]
    # check_sweepable made sure the organism is a GGUF with an adapter; the base may be served anywhere.
    assert isinstance(first, BatchedBackend)
    shared = first.shared
    shared.acquire()  # the weights stay loaded while the organism's context changes strength
    detectors = DetectorSet.for_pair(pair, settings.cache)
    n = args.samples
    grid = (1 + len(scales)) * len(every) * n
    points: list[dict[str, Any]] = []
    sides = [first]  # the organism's context at the strength being swept (closed on the way out)
    try:
        with Store.open(path) as store:
            after = detectors.bind(store)
            columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("sweep", total=grid)
                offset = 0

                def one(label: str, pair_at: Any, side: dict[str, Any]) -> str:
                    nonlocal offset

                    def show(p: RunProgress) -> None:
                        bar.update(task, description=label, completed=offset + p.skipped + p.done)

                    run_id, prog = run_batch(
                        store, pair_at, side, every, params, args.samples, show, after_rollout=after
                    )
                    offset += prog.skipped + prog.total
                    return run_id

                base_run = one("base", pair, {"base": base})
                points.append(point(None, store.run_counts(base_run, probe_ids)))
                for k, scale in enumerate(scales):
                    if k:
                        sides.pop().close()
                        sides.append(
                            BatchedBackend(
                                shared,
                                role="organism",
                                use_adapter=True,
                                adapter_scale=scale,
                                prompt_format=pair.format,
                            )
                        )
                    organism = sides[-1]
                    pair_at = replace(pair, organism=replace(pair.organism, adapter_scale=scale))
                    run_id = one(f"scale {scale:g}", pair_at, {"organism": organism})
                    row = point(scale, store.run_counts(run_id, probe_ids))
                    if args.naturalness:
                        bar.update(task, description=f"scale {scale:g}: naturalness panel")
                        row = with_panel(
                            row, run_panel(pair.name, {"organism": organism, "base": base}, docs, items, panel)
                        )
                    points.append(row)
            rec = recommend(points, args.target)
            sweep = {"pair": pair.name, "target": args.target, "points": points, "recommended": rec}
            inputs = {
                "pair": pair.name,
                "scales": scales,
                "prompts": str(args.prompts or "default set, everyday prompts"),
                "n_prompts": len(prompts),
                "probes": list(pair.probes),
                "samples": args.samples,
                "params": params.as_dict(),
                "naturalness": args.naturalness,
                "base": base.info().as_dict(),
            }
            store.save_snapshot("sweep", inputs, sweep)
    finally:
        for b in (*sides, base):
            b.close()
        shared.release()
    return emit(sweep, sweep_lines(sweep), args.json)
