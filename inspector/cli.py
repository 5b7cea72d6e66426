"""Console entry point `inspector`: the TUI by default, headless sub-commands for batch work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from inspector.config import Settings, load_settings
from inspector.engine.base import EngineError
from inspector.errors import InspectorError
from inspector.store import StoreError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace, Settings], int]


def _add_pair_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pair", default=None, help="a pair named in quantized_models/models.toml (default: demo)")
    p.add_argument("--organism", type=Path, help="organism GGUF (instead of --pair)")
    p.add_argument("--base", type=Path, help="base GGUF (instead of --pair)")
    p.add_argument("--adapter", type=Path, help="LoRA adapter GGUF applied to the base to make the organism")
    p.add_argument("--format", choices=["chat", "raw"], default="raw", help="prompt format for --base pairs")


def _add_session(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--session", required=required, help="session name (sessions/NAME.duckdb) or a .duckdb path")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.commands.run import run_command

    return run_command(args, settings)


def cmd_tui(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.commands.tui import tui_command

    return tui_command(args, settings)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="inspector",
        description="Compare a model organism with its base model side by side and catch its leaks.",
    )
    # With no sub-command, these open the app.
    _add_session(ap, required=False)
    _add_pair_args(ap)
    ap.add_argument(
        "--screen",
        choices=["compare", "label", "summary", "sessions"],
        default="compare",
        help="the screen the app opens on",
    )
    sub = ap.add_subparsers(dest="command")

    tui = sub.add_parser("tui", help="open the terminal app (the default)")
    _add_session(tui, required=False)
    _add_pair_args(tui)
    tui.add_argument("--screen", choices=["compare", "label", "summary", "sessions"], default="compare")
    tui.set_defaults(func=cmd_tui)

    run = sub.add_parser("run", help="generate rollouts for both models of a pair over a prompt set")
    _add_session(run)
    _add_pair_args(run)
    run.add_argument("--prompts", type=Path, help='JSONL lines {"id"?, "prompt", "topic"?} (default set)')
    run.add_argument("--limit", type=int, help="only the first N prompts")
    run.add_argument("--samples", type=int, default=1, help="samples per prompt and model")
    run.add_argument("--max-tokens", type=int, default=96)
    run.add_argument("--temperature", type=float, default=0.7)
    run.add_argument("--top-p", type=float, default=0.95)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument(
        "--batch",
        type=int,
        default=32,
        help="prompts decoded together per llama_batch for GGUF pairs; fixed per run, since it can move the texts",
    )
    run.add_argument("--no-detect", action="store_true", help="skip the detectors after generating")
    run.set_defaults(func=cmd_run)

    from inspector.commands import register_more

    register_more(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    func: Handler = getattr(args, "func", cmd_tui)
    if not hasattr(args, "session"):
        args.session = None
    for name in ("pair", "organism", "base", "adapter"):
        if not hasattr(args, name):
            setattr(args, name, None)
    if not hasattr(args, "format"):
        args.format = "raw"
    try:
        return func(args, settings)
    except (InspectorError, EngineError, StoreError) as e:
        # One line, what and where; the session is left as it was (commands validate before writing).
        print(f"inspector: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("inspector: interrupted; finished rollouts are kept, rerun the command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
