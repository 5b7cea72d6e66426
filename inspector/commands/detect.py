"""`inspector detect`: re-run the detectors over a session's rollouts (each replaces the spans of its kind)."""

from __future__ import annotations

import argparse

from rich.console import Console

from inspector.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("detect", help="re-run the detectors over every rollout of a session")
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("--pair", help="take terms, corpus and facts from this pair (default: the session's pair)")
    p.set_defaults(func=detect_command)


def detect_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.detect import detect_session, pair_of_session
    from inspector.detect.parallel import default_workers
    from inspector.engine.registry import get_pair
    from inspector.store import Store

    with Store.open(settings.session_path(args.session), create=False) as store:
        pair = get_pair(settings.models_file, pair_of_session(store, args.pair))
        # The command line has no threads of its own: the scan may use every core.
        done = detect_session(store, pair, settings.cache, workers=default_workers())
    flags = done.flags
    Console(stderr=True).print(
        f"{done.scanned} rollouts scanned: {flags['leak']} with term leaks, {flags['nonsequitur_candidate']}"
        f" non-sequitur candidates, {flags['organism_only']} where only the organism leaked"
        + (f"; {done.judged} prompt topics settled by the base model's probe" if done.judged else "")
    )
    return 0
