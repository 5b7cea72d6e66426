"""`inspector` with no sub-command: the Textual app on a session and pair."""

from __future__ import annotations

import argparse

from inspector.config import Settings


def tui_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.tui.app import run_app

    return run_app(args, settings)
