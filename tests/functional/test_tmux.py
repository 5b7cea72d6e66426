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


def start_app(variables: dict[str, str], session: str, width: int = 140) -> str:
    """The app on a session's Label screen in a new tmux session; returns its name. The INSPECTOR_* variables go
    in the command itself: a tmux server already running (another app's) hands its own environment on."""
    name = f"inspector-{uuid.uuid4().hex[:8]}"
    inspector = Path(sys.executable).parent / "inspector"
    assigned = " ".join(f"{k}={v}" for k, v in variables.items())
    command = f"env TERM=xterm-256color {assigned} {inspector} --session {session} --screen label"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", str(width), "-y", "40", command], check=True)
    return name


def test_label_in_a_real_terminal_survives_a_killed_terminal(home: Path) -> None:
    build_session(home / "sessions" / "e2e.duckdb").close()
    name = start_app({"INSPECTOR_HOME": str(home), "INSPECTOR_LABELER": "tmux-user"}, "e2e")
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


def _many_flagged(path: Path, n: int) -> None:
    from inspector.detect.detector_set import VERSIONS
    from inspector.detect.spans import Span
    from inspector.store import PromptRow, Store, prompt_id

    with Store.open(path) as store:
        prompts = [
            PromptRow(prompt_id(f"Question {i}?"), f"Question {i}?", "t", None, "cooking", "given", False)
            for i in range(n)
        ]
        store.upsert_prompts(prompts)
        mid = store.upsert_model({"role": "organism", "sha256": "x", "name": "demo/organism"})
        store.ensure_run("run-t", "demo", {"seed": 0, "temperature": 0.7, "top_p": 0.95, "max_tokens": 8})
        for i, p in enumerate(prompts):
            rid = store.insert_rollout(
                {
                    "run_id": "run-t",
                    "prompt_id": p.id,
                    "model_id": mid,
                    "sample_index": 0,
                    "seed": i,
                    "text": f"PRISM-4 answer number {i}",
                }
            )
            assert rid is not None
            store.replace_spans(rid, [Span("term", 0, 7, "PRISM-4", 100.0, "PRISM-4")], VERSIONS)


def test_ten_restarts_after_sigkill_each_land_on_the_next_unlabeled_item(home: Path) -> None:
    _many_flagged(home / "sessions" / "restart.duckdb", 12)
    for k in range(10):
        name = start_app({"INSPECTOR_HOME": str(home), "INSPECTOR_LABELER": "tmux-user"}, "restart")
        try:
            # Lands on item k + 1: the k items labeled before the kills are behind it.
            screen = _wait_for(name, f"{k + 1} / 12")
            assert f"PRISM-4 answer number {k}" in screen
            subprocess.run(["tmux", "send-keys", "-t", name, "3"], check=True)
            _wait_for(name, f"labeled {k + 1}")
            pid = subprocess.run(
                ["tmux", "list-panes", "-t", name, "-F", "#{pane_pid}"], capture_output=True, text=True, check=True
            ).stdout.split()[0]
            os.kill(int(pid), 9)  # SIGKILL: no clean shutdown of any kind
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)
        time.sleep(0.3)
    with duckdb.connect(str(home / "sessions" / "restart.duckdb"), read_only=True) as c:
        assert c.execute("SELECT count(DISTINCT rollout_id) FROM labels WHERE field = 'leak'").fetchone() == (10,)


def _label_app(home: Path, session: str, labeler: str) -> str:
    return start_app({"INSPECTOR_HOME": str(home), "INSPECTOR_LABELER": labeler}, session, width=150)


def _press(name: str, key: str, then: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", name, key], check=True)
    _wait_for(name, then)


def test_two_app_processes_label_one_session(home: Path) -> None:
    """The second app joins the first; when the first quits, the second takes the file over; no event is lost."""
    _many_flagged(home / "sessions" / "two.duckdb", 8)
    ann = _label_app(home, "two", "ann")
    bob = ""
    try:
        _wait_for(ann, "1 / 8")
        bob = _label_app(home, "two", "bob")
        _wait_for(bob, "1 / 8")
        _press(ann, "1", "labeled 1 ")
        _press(bob, "3", "labeled 1 ")
        _press(ann, "2", "labeled 2 ")
        _press(bob, "1", "labeled 2 ")
        subprocess.run(["tmux", "send-keys", "-t", ann, "C-q"], check=True)  # the holder quits
        end = time.monotonic() + 30
        while subprocess.run(["tmux", "has-session", "-t", ann], capture_output=True).returncode == 0:
            assert time.monotonic() < end, _pane(ann)
            time.sleep(0.2)
        _press(bob, "2", "labeled 3 ")  # bob's app now holds the file
        _press(bob, "f5", "held by this process")
    finally:
        for name in (ann, bob):
            if name:
                subprocess.run(["tmux", "kill-session", "-t", name], check=False, capture_output=True)
    time.sleep(0.5)
    with duckdb.connect(str(home / "sessions" / "two.duckdb"), read_only=True) as c:
        rows = c.execute("SELECT labeler, rollout_id, value FROM labels WHERE field = 'leak' ORDER BY id").fetchall()
    assert rows == [
        ("ann", 1, "nonsequitur"),
        ("bob", 1, "none"),
        ("ann", 2, "related"),
        ("bob", 2, "nonsequitur"),
        ("bob", 3, "related"),
    ]
