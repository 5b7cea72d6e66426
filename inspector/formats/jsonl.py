"""JSONL reading shared by every input: one object per non-blank line, errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError


def read_bytes(path: Path, what: str = "") -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InspectorError(f"{path}: cannot read{' ' + what if what else ''} ({e.strerror})") from e


def objects(raw: bytes, source: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(where, line number, object) for each non-blank line; `where` is "source:line" for error messages."""
    for n, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise InspectorError(f"{where}: not UTF-8") from e
        except json.JSONDecodeError as e:
            raise InspectorError(f"{where}: invalid JSON ({e.msg})") from e
        except RecursionError as e:
            raise InspectorError(f"{where}: JSON nested too deeply") from e
        if not isinstance(obj, dict):
            raise InspectorError(f"{where}: expected a JSON object")
        yield where, n, obj
