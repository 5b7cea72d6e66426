"""Sub-command implementations, imported lazily so `inspector --help` starts fast."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspector.engine.pair_spec import Pair

# Each module has register(subparsers): it adds its own sub-command and handler.
MODULES = [
    "inspector.commands.scan",
    "inspector.commands.detect",
    "inspector.commands.science",
    "inspector.commands.naturalness",
    "inspector.commands.sweep",
    "inspector.commands.ifeval",
    "inspector.commands.mcq",
]


def register_more(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name in MODULES:
        import_module(name).register(sub)


def pair_from_args(models_file: Path, args: argparse.Namespace) -> Pair:
    """The pair a command line names: --pair, or --base with --organism or --adapter, with --format and
    --adapter-scale (the parsed options stop here: below the commands, functions take typed arguments)."""
    from inspector.engine.registry import resolve_pair

    return resolve_pair(
        models_file,
        args.pair,
        organism=args.organism,
        base=args.base,
        adapter=args.adapter,
        fmt=args.format,
        adapter_scale=args.adapter_scale,
    )


def add_system_args(p: Any) -> None:
    """--system / --system-file / --no-system: the condition a chat pair's prompts are asked under."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--system", metavar="TEXT", help="system prompt for every prompt (default: the pair's)")
    group.add_argument("--system-file", type=Path, metavar="FILE", help="the system prompt, read from a file")
    group.add_argument("--no-system", action="store_true", help="no system prompt, even if the pair has one")


def system_from_args(args: argparse.Namespace, pair: Pair) -> str | None:
    """The system prompt a command line asks for: --system or --system-file, none with --no-system, else the
    pair's own. A raw-format pair is refused one: raw text has nowhere to put it."""
    from inspector.errors import InspectorError

    system: str | None
    if getattr(args, "system_file", None) is not None:
        path: Path = args.system_file
        try:
            system = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError as e:
            raise InspectorError(f"--system-file {path}: no such file") from e
        except (OSError, UnicodeDecodeError) as e:
            raise InspectorError(f"--system-file {path}: cannot read it ({e})") from e
        if not system:
            raise InspectorError(f"--system-file {path}: the file is empty")
    elif getattr(args, "system", None) is not None:
        system = args.system.strip()
        if not system:
            raise InspectorError("--system: the system prompt is empty (for none, give --no-system)")
    elif getattr(args, "no_system", False):
        return None
    else:
        return pair.system_prompt
    if pair.format == "raw":
        raise InspectorError(
            f"--system: pair '{pair.name}' is in raw completion format, where a system prompt has nowhere to go"
            " (use a chat pair, such as chat-demo)"
        )
    return system


def emit(result: dict[str, Any], lines: Iterable[str], as_json: bool) -> int:
    """A command's result on stdout: the JSON as stored, or its human-readable lines, one per line."""
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    from rich.console import Console

    console = Console()
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    return 0
