"""Shared fixtures: a temporary INSPECTOR_HOME per test, the real Gemma GGUF assembled once, and the
--logit-jitter mode (every logits row the engine reads perturbed as another CPU would: tests/README.md)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine import jitter

# The assembled Gemma file is 253 MB: build it once per machine, outside any test's temporary home.
SHARED_CACHE = PROJECT_ROOT / ".cache"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("organism-inspector")
    g.addoption(
        "--logit-jitter",
        action="store_true",
        help=f"perturb every logits row the engine reads by seeded noise of {jitter.SIZE} (the spread measured"
        " between CPU builds and batch shapes), so tests that lean on one CPU's last bits fail here",
    )
    g.addoption("--logit-jitter-size", type=float, default=jitter.SIZE, help="the noise's standard deviation")
    g.addoption("--logit-jitter-seed", type=int, default=0, help="another seed: another CPU, as it were")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bit_exact: passes only when the same path, seed and batch plan give the same bits (it compares"
        " two runs made under the same jitter, never a run with a stored text)",
    )
    if config.getoption("--logit-jitter"):
        # The environment, not a flag in this process: the CLI and app subprocesses that tests start inherit it.
        os.environ[jitter.ENV] = f"{config.getoption('--logit-jitter-size')}:{config.getoption('--logit-jitter-seed')}"


def pytest_report_header(config: pytest.Config) -> str:
    j = jitter.setting()
    return f"logit jitter: size {j.size}, seed {j.seed}" if j else "logit jitter: off"


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


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct: a chat model of the llama architecture (the engine's second architecture)."""
    from inspector.engine.registry import PACKAGE_PREFIX, SMOLLM2_PACKAGE, resolve_gguf

    return resolve_gguf(PACKAGE_PREFIX + SMOLLM2_PACKAGE, SHARED_CACHE)


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
