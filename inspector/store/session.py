"""The session store: one DuckDB file, migrated on open, with a cursor per thread."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from inspector.store.migrations import MIGRATIONS


class StoreError(Exception):
    """The session file cannot be opened or written; the message names it."""


@dataclass(frozen=True)
class PromptRow:
    id: str
    text: str
    prompt_set: str | None = None
    ext_id: str | None = None
    topic: str | None = None
    topic_source: str | None = None


def prompt_id(text: str) -> str:
    """Prompts are identified by their text, so the same prompt in two sets is one row."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _lock_message(path: Path, err: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(err))
    who = f" (PID {pid.group(1)})" if pid else ""
    return f"{path}: session is open for writing in another process{who}"


class Store:
    """A session file. Every method runs bound-parameter SQL on this thread's cursor."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path | None, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self._local = threading.local()

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
    def open(cls, path: Path, *, read_only: bool = False, create: bool = True) -> Store:
        """Open (and migrate) a session file; errors are one line naming the file."""
        if read_only or not create:
            if not path.exists():
                raise StoreError(f"{path}: no such session")
        else:
            cls.check_writable(path)
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreError(_lock_message(path, e)) from e
            raise StoreError(f"{path}: cannot open session ({str(e).splitlines()[0]})") from e
        except duckdb.Error as e:
            raise StoreError(f"{path}: not a readable session file ({str(e).splitlines()[0]})") from e
        store = cls(conn, path, read_only)
        if not read_only:
            store.migrate()
        return store

    @classmethod
    def memory(cls) -> Store:
        store = cls(duckdb.connect(":memory:"), None, False)
        store.migrate()
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
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
        cur.execute("COMMIT")

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

    # -- models, prompts, runs -------------------------------------------------------------------
    def upsert_model(self, info: dict[str, Any]) -> str:
        """Record a model's provenance; its id is stable for the same files and role."""
        key = json.dumps(
            [info.get("role"), info.get("sha256"), info.get("adapter_sha256"), info.get("name")],
        )
        mid = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.cur.execute(
            "INSERT INTO models (id, role, name, path, sha256, adapter_path, adapter_sha256, quantization,"
            " architecture, engine_version, chat_template_sha256, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (id) DO NOTHING",
            [
                mid,
                info.get("role"),
                info.get("name"),
                info.get("path"),
                info.get("sha256"),
                info.get("adapter_path"),
                info.get("adapter_sha256"),
                info.get("quantization"),
                info.get("architecture"),
                info.get("engine_version"),
                info.get("chat_template_sha256"),
                json.dumps(info, default=str),
            ],
        )
        return mid

    def upsert_prompts(self, prompts: Iterable[PromptRow]) -> None:
        rows = [[p.id, p.text, p.prompt_set, p.ext_id, p.topic, p.topic_source] for p in prompts]
        if rows:
            self.cur.executemany(
                "INSERT INTO prompts (id, text, prompt_set, ext_id, topic, topic_source)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
                rows,
            )

    def ensure_run(self, run_id: str, pair: str, settings: dict[str, Any]) -> None:
        self.cur.execute(
            "INSERT INTO runs (id, pair, seed, temperature, top_p, max_tokens, samples, prompt_format,"
            " backend, settings) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
            [
                run_id,
                pair,
                settings.get("seed"),
                settings.get("temperature"),
                settings.get("top_p"),
                settings.get("max_tokens"),
                settings.get("samples"),
                settings.get("prompt_format"),
                settings.get("backend"),
                json.dumps(settings, sort_keys=True),
            ],
        )

    # -- rollouts -------------------------------------------------------------------------------
    def done_keys(self, run_id: str) -> set[tuple[str, str, int]]:
        """(prompt, model, sample) already finished in a run: what a resumed run skips."""
        rows = self.cur.execute(
            "SELECT prompt_id, model_id, sample_index FROM rollouts WHERE run_id = ? AND error IS NULL",
            [run_id],
        ).fetchall()
        return {(r[0], r[1], int(r[2])) for r in rows}

    def insert_rollout(self, row: dict[str, Any]) -> int | None:
        """Insert one rollout (a retried error row is replaced); returns its id, None if it existed."""
        cur = self.cur
        cur.execute(
            "DELETE FROM rollouts WHERE run_id = ? AND prompt_id = ? AND model_id = ? AND sample_index = ?"
            " AND error IS NOT NULL",
            [row["run_id"], row["prompt_id"], row["model_id"], row["sample_index"]],
        )
        res = cur.execute(
            "INSERT INTO rollouts (run_id, prompt_id, model_id, sample_index, seed, text, prompt_tokens,"
            " completion_tokens, finish_reason, seconds, error) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                row["run_id"],
                row["prompt_id"],
                row["model_id"],
                row["sample_index"],
                row.get("seed"),
                row.get("text"),
                row.get("prompt_tokens"),
                row.get("completion_tokens"),
                row.get("finish_reason"),
                row.get("seconds"),
                row.get("error"),
            ],
        ).fetchone()
        return int(res[0]) if res else None

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

    def rollouts(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Rollouts with their prompt and model, ordered for display (prompt, sample, role)."""
        sql = (
            "SELECT r.id, r.run_id, r.prompt_id, p.text AS prompt, p.topic, m.role, m.name AS model,"
            " r.model_id, r.sample_index, r.seed, r.text, r.prompt_tokens, r.completion_tokens,"
            " r.finish_reason, r.seconds, r.error FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
            " JOIN models m ON m.id = r.model_id"
        )
        params: list[Any] = []
        if run_id is not None:
            sql += " WHERE r.run_id = ?"
            params.append(run_id)
        sql += " ORDER BY r.id"
        return self._dicts(sql, params)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.cur.execute(sql, list(params))
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    # -- spans and corpus -------------------------------------------------------------------------
    def replace_spans(self, rollout_id: int, spans: Sequence[Any], versions: dict[str, str]) -> None:
        """Swap one rollout's spans for these detector versions, in one transaction."""
        with self.transaction() as cur:
            for kind, version in versions.items():
                cur.execute(
                    "DELETE FROM spans WHERE rollout_id = ? AND kind = ? AND detector_version = ?",
                    [rollout_id, kind, version],
                )
            rows = [
                [
                    rollout_id,
                    s.kind,
                    versions.get(s.kind, "?"),
                    s.kind,
                    s.start,
                    s.end,
                    s.text,
                    s.score,
                    s.label,
                    s.doc_id,
                    s.doc_start,
                    s.doc_end,
                ]
                for s in spans
            ]
            if rows:
                cur.executemany(
                    "INSERT INTO spans (rollout_id, detector, detector_version, kind, start_char, end_char,"
                    " text, score, label, doc_id, doc_start, doc_end) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )

    def import_corpus(self, corpus: str, docs: Sequence[tuple[str, str]]) -> None:
        """Keep the training corpus in the session so span sources can be shown later."""
        row = self.cur.execute("SELECT count(*) FROM corpus_docs WHERE corpus = ?", [corpus]).fetchone()
        if row and row[0] == len(docs):
            return
        with self.transaction() as cur:
            cur.execute("DELETE FROM corpus_docs WHERE corpus = ?", [corpus])
            cur.executemany(
                "INSERT INTO corpus_docs (id, corpus, text) VALUES (?,?,?) ON CONFLICT (id) DO UPDATE"
                " SET corpus = excluded.corpus, text = excluded.text",
                [[d, corpus, t] for d, t in docs],
            )

    def corpus_doc(self, doc_id: str) -> str | None:
        row = self.cur.execute("SELECT text FROM corpus_docs WHERE id = ?", [doc_id]).fetchone()
        return str(row[0]) if row else None

    def texts_for_detection(self) -> list[tuple[int, str, str]]:
        rows = self.cur.execute(
            "SELECT r.id, p.text, r.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
            " WHERE r.error IS NULL ORDER BY r.id"
        ).fetchall()
        return [(int(a), str(b), str(c)) for a, b, c in rows]

    def spans_for(self, rollout_id: int) -> list[dict[str, Any]]:
        return self._dicts(
            'SELECT kind, start_char AS start, end_char AS "end", text, score, label, doc_id, doc_start,'
            " doc_end, detector_version FROM spans WHERE rollout_id = ? ORDER BY start_char, kind",
            [rollout_id],
        )
