"""A run interrupted (Ctrl-C, SIGKILL) and resumed stores the same texts as an uninterrupted run on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.integration

# 12 prompts in batches of 3: four batches per model, so an interruption lands between batches or inside one.
ARGS = ["--pair", "demo", "--limit", "12", "--batch", "3", "--max-tokens", "12", "--temperature", "0.8", "--seed", "7"]
TOTAL = 24


def _texts(path: Path) -> list[tuple[str, str, int, int, str]]:
    with duckdb.connect(str(path), read_only=True) as c:
        rows = c.execute(
            "SELECT r.prompt_id, m.role, r.sample_index, r.seed, r.text FROM rollouts r"
            " JOIN models m ON m.id = r.model_id WHERE r.error IS NULL ORDER BY 1, 2, 3"
        ).fetchall()
    return [(str(a), str(b), int(c_), int(d), str(e)) for a, b, c_, d, e in rows]


def _interrupt(home: Path, session: str, sig: signal.Signals) -> int:
    """Start `inspector run` in its own process, send `sig` once its first batch is stored; its exit status."""
    env = {**os.environ, "INSPECTOR_HOME": str(home), "INSPECTOR_CACHE": str(SHARED_CACHE)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector.cli", "run", "--session", session, *ARGS],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    try:
        # Off a terminal, `run` prints one line per stored batch: the first one means rollouts are in the file.
        for line in proc.stderr:
            if "rollouts," in line:
                proc.send_signal(sig)
                break
        proc.stderr.read()
        return proc.wait(timeout=60)
    finally:
        proc.kill()


@pytest.mark.bit_exact
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_resumed_run_equals_uninterrupted(home: Path, sig: signal.Signals) -> None:
    assert main(["run", "--session", "whole", *ARGS]) == 0
    whole = _texts(home / "sessions" / "whole.duckdb")
    assert len(whole) == TOTAL

    status = _interrupt(home, "cut", sig)
    assert status == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    cut = home / "sessions" / "cut.duckdb"
    partial = _texts(cut)
    assert 0 < len(partial) < TOTAL  # the interruption really fell in the middle of the run
    assert set(partial) <= set(whole)  # what was kept is already what the whole run made

    assert main(["run", "--session", "cut", *ARGS]) == 0
    assert _texts(cut) == whole


def test_resume_with_another_batch_size_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--session", "b", "--pair", "demo", "--limit", "2", "--batch", "2", "--max-tokens", "4"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args[:-4], "--batch", "3", "--max-tokens", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "resume it with --batch 2" in err and "\n" not in err
