"""`inspector detect`: re-run the detectors over a session's rollouts (each replaces the spans of its kind)."""

from __future__ import annotations

import argparse

from rich.console import Console

from inspector.config import Settings
from inspector.errors import InspectorError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("detect", help="re-run the detectors over every rollout of a session")
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("--pair", help="take terms, corpus and facts from this pair (default: the session's pair)")
    p.set_defaults(func=detect_command)


def detect_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.engine.registry import get_pair
    from inspector.pipeline import DetectorSet, judge_topics
    from inspector.store import Store

    path = settings.session_path(args.session)
    with Store.open(path, create=False) as store:
        name = args.pair
        if name is None:
            # Imported rollouts carry no pair of their own: the detectors must come from one named here.
            pairs = [p for p in store.run_pairs() if p != "import"]
            if len(pairs) != 1:
                held = f"runs of {len(pairs)} pairs ({', '.join(pairs)})" if pairs else "only imported rollouts"
                raise InspectorError(f"{path}: holds {held}; give --pair PAIR")
            name = pairs[0]
        pair = get_pair(settings.models_file, name)
        detectors = DetectorSet.for_pair(pair, settings.cache)
        n = detectors.rerun(store)
        judged = judge_topics(store, pair, settings.cache)
        flags = store.flag_counts()
    Console(stderr=True).print(
        f"{n} rollouts scanned: {flags['leak']} with term leaks, {flags['nonsequitur_candidate']} non-sequitur "
        f"candidates, {flags['organism_only']} where only the organism leaked"
        + (f"; {judged} prompt topics settled by the base model's probe" if judged else "")
    )
    return 0
