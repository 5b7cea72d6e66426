"""The connection: opening and migrating a session file, a cursor per thread, transactions, bulk inserts."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self

import duckdb

from inspector.errors import InspectorError
from inspector.store.migrations import MIGRATIONS


class StoreError(InspectorError):
    """The session file cannot be opened or written; the message names it."""


class SessionLocked(StoreError):
    """Another process holds the session file (DuckDB allows one writing process per file)."""

    def __init__(self, path: Path, err: Exception) -> None:
        found = re.search(r"PID (\d+)", str(err))
        self.pid = int(found.group(1)) if found else None
        who = f" (PID {self.pid})" if self.pid else ""
        super().__init__(f"{path}: session is open for writing in another process{who}")


def write_failure(path: Path | None, err: Exception) -> StoreError:
    """One line for a write the disk refused (full, too large, read-only): the file it names (else the session)
    and that what was committed before is kept."""
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    found = re.search(r'Could not write file "([^"]*)": (.+)$', first)
    where, reason = (found.group(1), found.group(2)) if found else (str(path or ":memory:"), first)
    return StoreError(f"{where}: cannot write ({reason}); what was saved before it is kept")


class StoreBase:
    """A session file. Every method of every part runs bound-parameter SQL on this thread's cursor."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path | None, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        # Set when this store keeps a server alive for other processes (see store/server.py): close stops it.
        self.release: Callable[[], None] | None = None

    @staticmethod
    def check_writable(path: Path) -> None:
        """Make sure the session's folder exists and can be written, before any slow work starts."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{path.parent}: cannot create the sessions folder ({e.strerror})") from e
        if not os.access(path.parent, os.W_OK):
            raise StoreError(f"{path.parent}: the sessions folder is not writable")

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open_direct(cls, path: Path, *, read_only: bool = False, create: bool = True) -> Self:
        """Open (and migrate) a session file in this process; errors are one line naming the file, and
        SessionLocked when another process holds it (`Store.open` then joins that process instead)."""
        if (read_only or not create) and not path.exists():
            raise StoreError(f"{path}: no such session")
        if not read_only and create:
            cls.check_writable(path)
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise SessionLocked(path, e) from e
            raise StoreError(f"{path}: cannot open session ({str(e).splitlines()[0]})") from e
        except duckdb.Error as e:
            raise StoreError(f"{path}: not a readable session file ({str(e).splitlines()[0]})") from e
        store = cls(conn, path, read_only)
        if not read_only:
            store.migrate()
        return store

    @classmethod
    def memory(cls) -> Self:
        store = cls(duckdb.connect(":memory:"), None, False)
        store.migrate()
        return store

    def close(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()  # answers the calls in flight before this process lets go of the file
        # A worker thread may still be finishing its last write when the app quits (a batch stopped by Escape
        # writes the rollouts it has): DuckDB refuses to close a connection with a call in flight instead of
        # waiting for it, so wait for it here, briefly, rather than lose the write or fail the exit.
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self._conn.close()
                return
            except duckdb.ResourceInUseException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def sharing(self) -> str:
        """Who holds the session file, for the screens: this process (serving any other), or another one."""
        return "held by this process, shared with any other" if self.release is not None else "held by this process"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def cur(self) -> duckdb.DuckDBPyConnection:
        # DuckDB connections are not safe across threads; a cursor per thread is.
        c = getattr(self._local, "cursor", None)
        if c is None:
            c = self._conn.cursor()
            self._local.cursor = c
        return c

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: an exception inside rolls every statement back."""
        cur = self.cur
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        try:
            cur.execute("COMMIT")
        except duckdb.Error:
            # A refused commit (a conflict, a full disk) must not leave this thread's cursor inside a transaction.
            with suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise

    def migrate(self) -> list[int]:
        cur = self.cur
        cur.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
            "applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        done = {r[0] for r in cur.execute("SELECT version FROM _migrations").fetchall()}
        applied = []
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as tx:
                for sql in statements:
                    tx.execute(sql)
                tx.execute("INSERT INTO _migrations (version, name) VALUES (?, ?)", [version, name])
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        row = self.cur.execute("SELECT max(version) FROM _migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def count(self, table: str) -> int:
        if table not in {
            "models",
            "prompts",
            "runs",
            "rollouts",
            "spans",
            "labels",
            "samples",
            "corpus_docs",
            "metric_snapshots",
        }:
            raise ValueError(table)
        row = self.cur.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.cur.execute(sql, list(params))
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def bulk_insert(
    cur: duckdb.DuckDBPyConnection, sql: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert many rows through a registered column frame: DuckDB's executemany costs ~3 ms a row."""
    import numpy as np

    if not rows:
        return
    frame = {c: np.array([r[i] for r in rows], dtype=object) for i, c in enumerate(columns)}
    cur.register("_bulk", frame)  # replaces a frame a failed insert left registered
    cur.execute(sql)
    # Not in a `finally`: after a failed insert the transaction is aborted and refuses even unregister().
    cur.unregister("_bulk")
