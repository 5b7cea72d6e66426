"""`inspector` with no sub-command: the Textual app on a session and pair."""

from __future__ import annotations

import argparse

from inspector.config import Settings


def tui_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.commands import pair_from_args, system_from_args
    from inspector.engine.base import EngineError
    from inspector.tui.app import run_app

    pair, pair_error = None, None
    try:
        pair = pair_from_args(settings.models_file, args)
    except EngineError as e:
        if args.pair or args.base:
            raise
        # The app still opens for browsing and labeling; it says why it cannot generate, never falls back.
        pair_error = str(e)
    system = system_from_args(args, pair) if pair is not None else None
    return run_app(settings, args.session or "demo", pair, pair_error, args.screen or "compare", system)
