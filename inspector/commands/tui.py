"""`inspector` with no sub-command: until the Textual app lands, a short headless run on the demo pair."""

from __future__ import annotations

import argparse

from inspector.config import Settings


def tui_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.cli import build_parser
    from inspector.commands.run import run_command

    run_args = build_parser().parse_args(["run", "--session", args.session or "demo", "--limit", "10"])
    run_args.pair = args.pair
    return run_command(run_args, settings)
