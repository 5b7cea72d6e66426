"""One session, many processes: the holder serves the others, hands over when it stops or dies, loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from inspector.store import PromptRow, Store, prompt_id
from inspector.store.remote import RemoteStore

# A process that holds the session (it opens it first) and waits: "hold <seconds>" then closes it cleanly.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from inspector.store import Store
    store = Store.open(Path(sys.argv[1]))
    print("holding", type(store).__name__, flush=True)
    time.sleep(float(sys.argv[2]))
    store.close()
    """
)

# A labeler process: n labels on rollout 1, one at a time, as the Label screen sends them.
LABELER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from inspector.store import Store
    store = Store.open(Path(sys.argv[1]))
    print("joined", type(store).__name__, flush=True)
    sys.stdin.readline()
    for i in range(int(sys.argv[3])):
        store.add_label(1, sys.argv[2], "note", f"{sys.argv[2]}-{i}")
        time.sleep(0.005)  # a fast labeler, so the holder goes away mid-way
    print("done:", store.sharing(), flush=True)
    store.close()
    """
)


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.split()[0] in ("holding", "joined"), first
    return proc


def _seed(path: Path) -> None:
    with Store.open(path) as store:
        store.upsert_prompts([PromptRow(prompt_id("hi"), "hi")])
        mid = store.upsert_model({"role": "base", "sha256": "x", "name": "m"})
        store.ensure_run("run1", "p", {"seed": 0})
        store.insert_rollout({"run_id": "run1", "prompt_id": prompt_id("hi"), "model_id": mid, "sample_index": 0})


def _notes(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as c:
        return [str(r[0]) for r in c.execute("SELECT value FROM labels WHERE field = 'note' ORDER BY id").fetchall()]


def test_a_second_process_joins_the_holder_and_takes_over_when_it_stops(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    _seed(path)
    holder = _start(HOLDER, str(path), "1.5")
    store = Store.open(path)
    try:
        assert isinstance(store, RemoteStore)
        assert f"PID {holder.pid}" in store.sharing()
        store.add_label(1, "me", "leak", "none")  # answered by the holder
        assert store.current_labels(1) == {"me": {"leak": "none"}}
        holder.wait(timeout=30)
        # The holder is gone: this process takes the file over on its next call, and says so.
        store.add_label(1, "me", "leak", "related")
        assert "held by this process" in store.sharing()
        assert [e[4] for e in store.label_events()] == ["none", "related"]
    finally:
        store.close()
        holder.kill()


def test_reading_processes_join_too(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    _seed(path)
    holder = _start(HOLDER, str(path), "30")
    try:
        with Store.open(path, read_only=True) as store:
            assert isinstance(store, RemoteStore)
            assert store.count("rollouts") == 1
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("stop", ["exits", "killed"])
def test_labelers_lose_nothing_when_the_holder_stops_mid_labeling(tmp_path: Path, stop: str) -> None:
    """Two labeler processes label while the holder goes away (cleanly, or by SIGKILL): every label is kept once."""
    path = tmp_path / "s.duckdb"
    _seed(path)
    holder = _start(HOLDER, str(path), "600" if stop == "killed" else "2")
    labelers = [_start(LABELER, str(path), name, "400") for name in ("ann", "bob")]
    try:
        for lab in labelers:
            assert lab.stdin is not None
            lab.stdin.write("go\n")
            lab.stdin.flush()
        if stop == "killed":
            time.sleep(1.0)
            os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        outs = [lab.communicate(timeout=120)[0] for lab in labelers]
        assert all(lab.returncode == 0 for lab in labelers), outs
    finally:
        for p in (holder, *labelers):
            p.kill()
    notes = _notes(path)
    for name in ("ann", "bob"):
        mine = [n for n in notes if n.startswith(name + "-")]
        assert mine == [f"{name}-{i}" for i in range(400)]  # each once, in order
    assert any("done: held by this process" in out for out in outs), outs  # one took the file over


def test_a_label_sent_twice_with_its_key_is_recorded_once() -> None:
    """What lets a label whose reply was lost be sent again to the next holder."""
    store = Store.memory()
    first = store.add_label(7, "me", "leak", "none", key="k1")
    assert store.add_label(7, "me", "leak", "none", key="k1") == first
    store.add_label(7, "me", "leak", "related", key="k2")
    undone = store.undo_last("me", key="k3")
    assert store.undo_last("me", key="k3") == undone  # not a second undo reaching back to "none"
    assert [e[5] for e in store.label_events()] == ["set", "set", "undo"]


def test_a_full_disk_is_one_line_and_the_session_stays_as_it_was(tmp_path: Path) -> None:
    """A file-size limit stands in for a full disk: the write fails the same way (the OS refuses the bytes)."""
    home = tmp_path / "home"
    session = home / "sessions" / "full.duckdb"
    _seed(session)
    before = session.stat().st_size
    rows = tmp_path / "big.jsonl"
    with rows.open("w") as f:
        for i in range(20000):
            f.write(f'{{"prompt": "p{i}", "text": "{"x" * 200}", "model": "org"}}\n')
    limit = before + 256 * 1024

    def small_files() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process instead of refusing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "inspector.cli", "import", "--session", "full", str(rows)],
        env={**os.environ, "INSPECTOR_HOME": str(home)},
        capture_output=True,
        text=True,
        preexec_fn=small_files,  # the limit must be set in the child before it starts
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "full.duckdb" in lines[0], proc.stderr
    with Store.open(session, read_only=True) as store:
        assert store.count("rollouts") == 1 and store.count("prompts") == 1


def test_a_corrupt_session_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    session = home / "sessions" / "bad.duckdb"
    session.parent.mkdir(parents=True)
    session.write_bytes(b"DUCK" + os.urandom(64 * 1024))
    before = session.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "inspector.cli", "report", "--session", "bad"],
        env={**os.environ, "INSPECTOR_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(session) in lines[0], proc.stderr
    assert session.read_bytes() == before
