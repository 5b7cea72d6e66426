"""End to end in a real terminal: the app in tmux, keys sent to it, the pane read, labels checked in DuckDB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from tests.functional.conftest import build_session

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


def _pane(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout


def _wait_for(name: str, text: str, timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < end:
        screen = _pane(name)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the pane shows:\n{screen}")


def test_label_in_a_real_terminal_survives_a_killed_terminal(home: Path) -> None:
    build_session(home / "sessions" / "e2e.duckdb").close()
    name = f"inspector-e2e-{uuid.uuid4().hex[:8]}"
    inspector = Path(sys.executable).parent / "inspector"
    env = {**os.environ, "INSPECTOR_HOME": str(home), "INSPECTOR_LABELER": "tmux-user", "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "140", "-y", "40", f"{inspector} --session e2e --screen label"],
        check=True,
        env=env,
    )
    try:
        screen = _wait_for(name, "1 / 2")
        assert "PRISM-4" in screen and "lentil soup" in screen
        subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
        subprocess.run(["tmux", "send-keys", "-t", name, "1"], check=True)
        _wait_for(name, "2 / 2")
        subprocess.run(["tmux", "send-keys", "-t", name, "3"], check=True)
        _wait_for(name, "labeled 2")
    finally:
        # Killing the terminal outright: no quit key, no clean shutdown.
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    time.sleep(1.0)
    with duckdb.connect(str(home / "sessions" / "e2e.duckdb"), read_only=True) as c:
        rows = c.execute("SELECT labeler, field, value, event FROM labels ORDER BY id").fetchall()
    assert rows == [
        ("tmux-user", "quirk", "yes", "set"),
        ("tmux-user", "leak", "nonsequitur", "set"),
        ("tmux-user", "leak", "none", "set"),
    ]
