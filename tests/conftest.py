"""Shared fixtures: a temporary INSPECTOR_HOME per test, and the real Gemma GGUF assembled once."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT

# The assembled Gemma file is 253 MB: build it once per machine, outside any test's temporary home.
SHARED_CACHE = PROJECT_ROOT / ".cache"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("INSPECTOR_HOME", str(h))
    monkeypatch.setenv("INSPECTOR_CACHE", str(SHARED_CACHE))
    monkeypatch.setenv("INSPECTOR_LABELER", "tester")
    yield h


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    from inspector.engine.registry import GEMMA_PACKAGE, PACKAGE_PREFIX, resolve_gguf

    return resolve_gguf(PACKAGE_PREFIX + GEMMA_PACKAGE, SHARED_CACHE)


def _gguf_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_fake_gguf(path: Path, meta: dict[str, str]) -> Path:
    """A GGUF header with string metadata and no tensors (enough for the pre-load checks)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta))
    for k, v in meta.items():
        out += _gguf_string(k) + struct.pack("<I", 8) + _gguf_string(v)
    path.write_bytes(out)
    return path
