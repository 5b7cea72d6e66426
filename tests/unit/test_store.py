"""Store: migrations against in-memory and file databases, uniqueness, and the lock message."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.store import PromptRow, Store, StoreError, prompt_id
from inspector.store.migrations import MIGRATIONS


def test_migrations_recorded_and_idempotent() -> None:
    store = Store.memory()
    assert store.schema_version() == max(v for v, _, _ in MIGRATIONS)
    assert store.migrate() == []  # a second pass applies nothing
    tables = {r[0] for r in store.cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for t in (
        "models",
        "prompts",
        "runs",
        "rollouts",
        "spans",
        "corpus_docs",
        "labels",
        "samples",
        "metric_snapshots",
        "_migrations",
    ):
        assert t in tables


def test_file_session_reopens_without_remigrating(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as s:
        applied = s.schema_version()
    with Store.open(path) as s:
        assert s.migrate() == []
        assert s.schema_version() == applied


def _rollout(store: Store, sample: int = 0, error: str | None = None) -> int | None:
    store.upsert_prompts([PromptRow(prompt_id("hi"), "hi")])
    mid = store.upsert_model({"role": "base", "sha256": "x", "name": "m"})
    store.ensure_run("run1", "p", {"seed": 0})
    return store.insert_rollout(
        {
            "run_id": "run1",
            "prompt_id": prompt_id("hi"),
            "model_id": mid,
            "sample_index": sample,
            "text": None if error else "t",
            "error": error,
        }
    )


def test_rollouts_unique_per_run_prompt_model_sample() -> None:
    store = Store.memory()
    assert _rollout(store) is not None
    assert _rollout(store) is None
    assert store.count("rollouts") == 1
    assert _rollout(store, sample=1) is not None
    assert store.count("rollouts") == 2


def test_error_rollout_is_retried_not_duplicated() -> None:
    store = Store.memory()
    _rollout(store, error="context overflow")
    assert store.done_keys("run1") == set()
    assert _rollout(store) is not None
    assert store.count("rollouts") == 1
    assert len(store.done_keys("run1")) == 1


def test_open_for_writing_elsewhere_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(StoreError) as e:
            Store.open(path)
        msg = str(e.value)
        assert "\n" not in msg and str(path) in msg and "another process" in msg and str(holder.pid) in msg
        assert "does not share it" in msg  # DuckDB's own shell, say: nothing to join, so it must be closed
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    Store.open(path).close()  # usable again once the other process is gone


def test_unwritable_sessions_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the sessions folder"):
        Store.open(blocker / "sessions" / "x.duckdb")


def test_read_only_missing_session(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such session"):
        Store.open(tmp_path / "nope.duckdb", read_only=True)
    assert not (tmp_path / "nope.duckdb").exists()


def test_the_corpus_kept_in_the_session() -> None:
    store = Store.memory()
    docs = [(f"d{k}", f"document {k} with a quote's apostrophe") for k in range(300)]
    store.import_corpus("c", docs)
    store.import_corpus("c", docs)  # the same corpus again: kept as it is
    assert store.count("corpus_docs") == 300 and store.corpus_doc("d7") == "document 7 with a quote's apostrophe"
    store.import_corpus("c", [("d7", "changed"), ("new", "new text")])  # another version of it replaces it
    assert store.count("corpus_docs") == 2 and store.corpus_doc("d7") == "changed"
    store.close()


def test_close_waits_for_a_call_in_flight_on_another_thread(tmp_path: Path) -> None:
    """The app quits while a worker thread is in the middle of a bulk insert: DuckDB refuses to close a
    connection with a registered frame's insert in flight (it raised in the app's fill test), so close waits."""
    import threading
    import time

    import duckdb

    from inspector.store.connection import bulk_insert

    store = Store.open_direct(tmp_path / "busy.duckdb")
    store.cur.execute("CREATE TABLE t (a VARCHAR)")
    rows = [(str(j),) for j in range(20000)]
    calls = []

    def worker() -> None:
        cur = store.cur
        try:
            while True:
                bulk_insert(cur, "INSERT INTO t SELECT a FROM _bulk", ["a"], rows)
                calls.append(1)
        except duckdb.ConnectionException:
            pass  # closed between two calls: the next one is refused, as it should be

    t = threading.Thread(target=worker)
    t.start()
    while not calls:
        time.sleep(0.01)
    store.close()  # raised ResourceInUseException before close waited
    t.join(timeout=60)
    assert not t.is_alive()
