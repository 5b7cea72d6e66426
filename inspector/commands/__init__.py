"""Sub-command implementations, imported lazily so `inspector --help` starts fast."""

from __future__ import annotations

import argparse
from importlib import import_module

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
