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
    from inspector.engine.registry import Pair

# Each module has register(subparsers): it adds its own sub-command and handler.
MODULES = [
    "inspector.commands.scan",
    "inspector.commands.detect",
    "inspector.commands.science",
    "inspector.commands.naturalness",
    "inspector.commands.sweep",
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
