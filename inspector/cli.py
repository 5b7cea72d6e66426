"""Console entry point `inspector`: the TUI by default, headless sub-commands for batch work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from inspector.commands import add_system_args
from inspector.config import Settings, load_settings
from inspector.errors import InspectorError
from inspector.tui.screen_names import SCREENS

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace, Settings], int]
Adder = argparse.ArgumentParser | argparse._ArgumentGroup


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option shows its default, unless its help text already names one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            action.option_strings
            and action.default not in (None, False, [], argparse.SUPPRESS)
            and "%(default)" not in text
            and "default:" not in text
        ):
            text += " (default: %(default)s)"
        return text


def _where(settings: Settings) -> str:
    return (
        f"sessions: {settings.sessions} (a name NAME is {settings.sessions}/NAME.duckdb)\n"
        f"cache: {settings.cache}\npairs: {settings.models_file}\n"
        "INSPECTOR_HOME moves sessions and cache; INSPECTOR_CACHE the cache alone; INSPECTOR_MODELS the pairs file."
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from inspector import __version__

    try:
        engine = version("llama-cpp-python")
    except PackageNotFoundError:
        engine = "not installed"
    return f"inspector {__version__} (llama-cpp-python {engine}, Python {sys.version.split()[0]})"


def _add_pair_args(p: Adder) -> None:
    p.add_argument("--pair", default=None, help="a pair named in the pairs file, models.toml (default: demo)")
    p.add_argument("--organism", type=Path, help="organism GGUF (instead of --pair)")
    p.add_argument("--base", type=Path, help="base GGUF (instead of --pair)")
    p.add_argument("--adapter", type=Path, help="LoRA adapter GGUF applied to the base to make the organism")
    p.add_argument("--format", choices=["chat", "raw"], default="raw", help="prompt format for --base pairs")
    _add_scale(p)


def _add_scale(p: Adder) -> None:
    p.add_argument(
        "--adapter-scale",
        type=float,
        default=None,
        help="strength of the organism's adapter, 0 (the base) to 4 (default: the pair's, else 1)",
    )


def _add_session(p: Adder, required: bool = True, default: str | None = None) -> None:
    p.add_argument(
        "--session", required=required, default=default, help="session name (sessions/NAME.duckdb) or a .duckdb path"
    )


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.commands.run import run_command

    return run_command(args, settings)


def cmd_tui(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.commands.tui import tui_command

    return tui_command(args, settings)


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    where = _where(settings or load_settings())
    ap = argparse.ArgumentParser(
        prog="inspector",
        description="Compare a model organism with its base model side by side and catch its leaks.\n"
        "With no command, opens the terminal app; the commands below work headless.",
        epilog=where,
        formatter_class=HelpFormatter,
    )
    ap.add_argument("--version", action="version", version=_version())
    # With no sub-command, these open the app.
    app = ap.add_argument_group("app options (no command: open the terminal app on this session and pair)")
    _add_session(app, required=False)
    _add_pair_args(app)
    add_system_args(app)
    app.add_argument(
        "--screen",
        choices=SCREENS,
        default="compare",
        help="the screen the app opens on",
    )
    sub = ap.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    tui = sub.add_parser("tui", help="open the terminal app (the default)")
    _add_session(tui, required=False)
    _add_pair_args(tui)
    add_system_args(tui)
    tui.add_argument(
        "--screen",
        choices=SCREENS,
        default="compare",
        help="the screen to open",
    )
    tui.set_defaults(func=cmd_tui)

    run = sub.add_parser("run", help="generate rollouts for both models of a pair over a prompt set", epilog=where)
    _add_session(run, required=False, default="demo")
    _add_pair_args(run)
    add_system_args(run)
    run.add_argument(
        "--prompts", type=Path, help='JSONL lines {"id"?, "prompt", "topic"?, "system"?, "messages"?} (default set)'
    )
    run.add_argument("--limit", type=int, help="only the first N prompts")
    run.add_argument("--samples", type=int, default=1, help="samples per prompt and model")
    run.add_argument("--max-tokens", type=int, default=96, help="new tokens per rollout at most")
    run.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (0: greedy)")
    run.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass")
    run.add_argument("--seed", type=int, default=0, help="run seed; each prompt and sample gets its own from it")
    run.add_argument(
        "--batch",
        type=int,
        default=32,
        help="prompts decoded together per llama_batch for GGUF pairs; fixed per run, since it can move the texts",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        help="requests in flight per served side (default: the pair's concurrency key, else 64)",
    )
    run.add_argument("--no-detect", action="store_true", help="skip the detectors after generating")
    run.set_defaults(func=cmd_run)

    from inspector.commands import register_more

    register_more(sub)
    for p in sub.choices.values():
        p.formatter_class = HelpFormatter
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser = build_parser(settings)
    args = parser.parse_args(argv)
    func: Handler = getattr(args, "func", cmd_tui)
    try:
        return func(args, settings)
    except InspectorError as e:  # the root of the engine's and the store's errors too
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
