"""`inspector naturalness`: the naturalness panel for a pair, stored in a session as a metric snapshot."""

from __future__ import annotations

import argparse
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from inspector.commands import emit
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
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=naturalness_command)


def _sha256(path: Path | None, shipped: str) -> str:
    data = (resources.files("inspector") / "data" / shipped).read_bytes() if path is None else path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def naturalness_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.engine.registry import open_pair, resolve_pair
    from inspector.errors import InspectorError
    from inspector.naturalness import load_documents, load_items
    from inspector.panel import PanelSettings, run_panel
    from inspector.runner import register_models
    from inspector.store import Store

    # Inputs first: a bad file is one line before any model loads, and the session is not touched.
    docs = load_documents(args.text)
    items = load_items(args.items)
    if args.budget is not None and args.budget < 1:
        raise InspectorError(f"--budget must be at least 1 pair, not {args.budget}")
    if not 8 <= args.tokens <= 512:
        raise InspectorError(f"--tokens must be between 8 and 512, not {args.tokens}")
    path = settings.session_path(args.session)
    Store.check_writable(path)
    pair = resolve_pair(settings.models_file, args.pair, adapter_scale=args.adapter_scale)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = open_pair(pair, settings.cache, n_seq=32, ctx_per_seq=max(64, args.tokens))
    try:
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("naturalness", total=None)

            def show(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            panel = run_panel(
                pair.name, backends, docs, items, PanelSettings(args.tokens, args.seed, args.budget), show
            )
        with Store.open(path) as store:
            ids = register_models(store, pair, backends)
            inputs: dict[str, Any] = {
                "pair": pair.name,
                "text": str(args.text or "natural_text.jsonl (shipped)"),
                "text_sha256": _sha256(args.text, "natural_text.jsonl"),
                "items": str(args.items or "preference_items.jsonl (shipped)"),
                "items_sha256": _sha256(args.items, "preference_items.jsonl"),
                "models": {role: b.info().as_dict() | {"id": ids[role]} for role, b in backends.items()},
                "tokens_per_document": args.tokens,
                "seed": args.seed,
                "budget": args.budget,
            }
            store.save_snapshot("naturalness", inputs, panel)
    finally:
        for b in backends.values():
            b.close()
    from inspector.report import naturalness_lines

    return emit(panel, naturalness_lines(panel), args.json)
