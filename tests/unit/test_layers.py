"""The command line starts light: parsing and --help load none of the app, the engine or the store's database."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_loads_no_textual_llama_cpp_or_duckdb() -> None:
    code = (
        "import sys, inspector.cli\n"
        "inspector.cli.build_parser()\n"
        "print(sorted(m for m in ('textual', 'llama_cpp', 'duckdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
