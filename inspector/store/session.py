"""The session store: one DuckDB file, migrated on open, with a cursor per thread."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from inspector.store.labels import LabelsMixin
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
    related: bool | None = None  # about AI, technology or the model itself (given topic, else guessed)
    topic_score: float | None = None
    topic_evidence: str | None = None


def model_id(role: str | None, sha256: str | None, adapter_sha256: str | None, name: str | None) -> str:
    """Stable for the same files, role and name; imported models have no files, so their shas are None."""
    return hashlib.sha256(json.dumps([role, sha256, adapter_sha256, name]).encode()).hexdigest()[:16]


def prompt_id(text: str) -> str:
    """Prompts are identified by their text, so the same prompt in two sets is one row."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _lock_message(path: Path, err: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(err))
    who = f" (PID {pid.group(1)})" if pid else ""
    return f"{path}: session is open for writing in another process{who}"


class Store(LabelsMixin):
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
        if (read_only or not create) and not path.exists():
            raise StoreError(f"{path}: no such session")
        if not read_only and create:
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
        mid = model_id(info.get("role"), info.get("sha256"), info.get("adapter_sha256"), info.get("name"))
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
        rows = [
            [p.id, p.text, p.prompt_set, p.ext_id, p.topic, p.topic_source, p.related, p.topic_score, p.topic_evidence]
            for p in prompts
        ]
        if rows:
            self.cur.executemany(
                "INSERT INTO prompts (id, text, prompt_set, ext_id, topic, topic_source, related, topic_score,"
                " topic_evidence) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
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
        self.replace_spans_many([(rollout_id, spans)], versions)

    def replace_spans_many(self, items: Sequence[tuple[int, Sequence[Any]]], versions: dict[str, str]) -> None:
        """replace_spans for many rollouts in one transaction (a session-wide re-detect)."""
        ids = [rid for rid, _ in items]
        rows = [
            (
                rid,
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
            )
            for rid, spans in items
            for s in spans
        ]
        with self.transaction() as cur:
            cur.execute("CREATE OR REPLACE TEMP TABLE _redo (rollout_id BIGINT)")
            _bulk_insert(
                cur, "INSERT INTO _redo SELECT rollout_id::BIGINT FROM _bulk", ("rollout_id",), [(i,) for i in ids]
            )
            for kind, version in versions.items():
                cur.execute(
                    "DELETE FROM spans WHERE rollout_id IN (SELECT rollout_id FROM _redo) AND kind = ?"
                    " AND detector_version = ?",
                    [kind, version],
                )
            _bulk_insert(
                cur,
                "INSERT INTO spans (rollout_id, detector, detector_version, kind, start_char, end_char, text, score,"
                " label, doc_id, doc_start, doc_end) SELECT rollout_id::BIGINT, detector, detector_version, kind,"
                " start_char::INTEGER, end_char::INTEGER, text, score::DOUBLE, label, doc_id, doc_start::INTEGER,"
                " doc_end::INTEGER FROM _bulk",
                (
                    "rollout_id",
                    "detector",
                    "detector_version",
                    "kind",
                    "start_char",
                    "end_char",
                    "text",
                    "score",
                    "label",
                    "doc_id",
                    "doc_start",
                    "doc_end",
                ),
                rows,
            )
            cur.execute("DROP TABLE _redo")

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

    def run_pairs(self) -> list[str]:
        return [str(r[0]) for r in self.cur.execute("SELECT DISTINCT pair FROM runs ORDER BY 1").fetchall()]

    def flag_counts(self) -> dict[str, int]:
        row = self.cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE leak), count(*) FILTER (WHERE nonsequitur_candidate),"
            " count(*) FILTER (WHERE role = 'organism' AND leak AND NOT coalesce(base_leak, false)),"
            " count(*) FILTER (WHERE flagged) FROM rollout_flags"
        ).fetchone()
        assert row is not None
        keys = ("rollouts", "leak", "nonsequitur_candidate", "organism_only", "flagged")
        return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}

    # -- browsing (the TUI pages through these) --------------------------------------------------------
    def prompt_list(self, limit: int = 5000, offset: int = 0) -> list[dict[str, Any]]:
        """The session's prompts, with how many of their rollouts are flagged or leak."""
        return self._dicts(
            "SELECT p.id, p.text, p.topic, p.related, count(f.rollout_id) AS n_rollouts,"
            " count(*) FILTER (WHERE f.flagged) AS n_flagged, count(*) FILTER (WHERE f.leak) AS n_leak,"
            " count(*) FILTER (WHERE f.nonsequitur_candidate) AS n_nonsequitur"
            " FROM prompts p LEFT JOIN rollout_flags f ON f.prompt_id = p.id"
            # Prompts with rollouts in the order they were run, then the rest in their prompt set's order.
            " GROUP BY ALL ORDER BY min(f.rollout_id) NULLS LAST, any_value(p.ext_id) NULLS LAST, p.id"
            " LIMIT ? OFFSET ?",
            [limit, offset],
        )

    def rollout(self, rollout_id: int) -> dict[str, Any] | None:
        rows = self._dicts(
            "SELECT r.id, r.run_id, r.prompt_id, p.text AS prompt, p.topic, p.related, m.role, m.name AS model,"
            " r.sample_index, r.seed, r.text, r.completion_tokens, r.finish_reason FROM rollouts r"
            " JOIN prompts p ON p.id = r.prompt_id JOIN models m ON m.id = r.model_id WHERE r.id = ?",
            [rollout_id],
        )
        return rows[0] if rows else None

    def side_by_side(self, prompt_id: str, sample: int) -> dict[str, dict[str, Any]]:
        """The newest run's organism and base rollouts for one prompt and sample, keyed by role."""
        rows = self._dicts(
            "SELECT r.id, r.run_id, m.role, r.seed, r.text, r.sample_index FROM rollouts r"
            " JOIN models m ON m.id = r.model_id JOIN runs u ON u.id = r.run_id"
            " WHERE r.prompt_id = ? AND r.sample_index = ? AND r.error IS NULL ORDER BY u.created_at, r.id",
            [prompt_id, sample],
        )
        return {str(r["role"]): r for r in rows}  # later runs overwrite earlier ones

    def samples_for(self, prompt_id: str) -> int:
        row = self.cur.execute(
            "SELECT coalesce(max(sample_index) + 1, 0) FROM rollouts WHERE prompt_id = ?", [prompt_id]
        ).fetchone()
        return int(row[0]) if row else 0

    # -- metrics inputs ---------------------------------------------------------------------------------
    def model_counts(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT f.model_id, m.role, m.name, count(*) AS n_rollouts, count(*) FILTER (WHERE leak) AS n_leaks,"
            " count(*) FILTER (WHERE NOT related) AS n_unrelated,"
            " count(*) FILTER (WHERE leak AND NOT related) AS n_unrelated_leaks"
            " FROM rollout_flags f JOIN models m ON m.id = f.model_id GROUP BY ALL ORDER BY m.role DESC, m.name"
        )

    def leak_pairs(self) -> list[tuple[str, bool, bool]]:
        """(prompt, organism leaked, base leaked) for every organism/base pair on the same run, prompt, sample."""
        rows = self.cur.execute(
            "SELECT o.prompt_id, o.leak, b.leak FROM rollout_flags o JOIN rollout_flags b"
            " ON o.run_id = b.run_id AND o.prompt_id = b.prompt_id AND o.sample_index = b.sample_index"
            " WHERE o.role = 'organism' AND b.role = 'base' ORDER BY o.rollout_id"
        ).fetchall()
        return [(str(p), bool(o), bool(b)) for p, o, b in rows]

    def labelers(self) -> list[tuple[str, int]]:
        rows = self.cur.execute(
            "SELECT labeler, count(DISTINCT rollout_id) FROM labels WHERE field = 'leak' GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        return [(str(a), int(b)) for a, b in rows]

    def current_label_table(self, labeler: str | None = None) -> list[dict[str, Any]]:
        """One row per (rollout, labeler) with the current leak, quirk and note labels."""
        sql = (
            "WITH cur AS (SELECT rollout_id, labeler, field, value FROM labels"
            + (" WHERE labeler = ?" if labeler else "")
            + " QUALIFY row_number() OVER (PARTITION BY rollout_id, labeler, field ORDER BY id DESC) = 1)"
            " SELECT rollout_id, labeler, max(value) FILTER (WHERE field = 'leak') AS leak,"
            " max(value) FILTER (WHERE field = 'quirk') AS quirk, max(value) FILTER (WHERE field = 'note') AS note"
            " FROM cur GROUP BY ALL ORDER BY rollout_id, labeler"
        )
        return self._dicts(sql, [labeler] if labeler else [])

    def labeled_leaks(self, labeler: str, queue: str | None = None) -> list[dict[str, Any]]:
        """This labeler's current labels on rollouts, with the model and the item's inclusion probability."""
        return self._dicts(
            "WITH cur AS (SELECT rollout_id, field, value FROM labels WHERE labeler = ?"
            " QUALIFY row_number() OVER (PARTITION BY rollout_id, field ORDER BY id DESC) = 1),"
            " lab AS (SELECT rollout_id, max(value) FILTER (WHERE field = 'leak') AS leak,"
            " max(value) FILTER (WHERE field = 'quirk') AS quirk FROM cur GROUP BY ALL)"
            " SELECT lab.rollout_id, lab.leak, lab.quirk, f.model_id, f.role,"
            " coalesce(s.inclusion_prob, 1.0) AS inclusion_prob FROM lab"
            " JOIN rollout_flags f ON f.rollout_id = lab.rollout_id"
            " LEFT JOIN samples s ON s.rollout_id = lab.rollout_id AND s.queue = coalesce(?, s.queue)"
            " WHERE lab.leak IS NOT NULL ORDER BY lab.rollout_id",
            [labeler, queue],
        )

    def save_snapshot(self, kind: str, inputs: dict[str, Any], metrics: dict[str, Any]) -> int:
        row = self.cur.execute(
            "INSERT INTO metric_snapshots (kind, inputs, metrics) VALUES (?,?,?) RETURNING id",
            [kind, json.dumps(inputs, default=str), json.dumps(metrics, default=str)],
        ).fetchone()
        assert row is not None
        return int(row[0])

    # -- sampling ----------------------------------------------------------------------------------------
    def flagged_population(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT f.rollout_id, f.role, coalesce(p.topic, CASE WHEN f.related THEN 'ai' ELSE 'other' END) AS topic,"
            " f.related FROM rollout_flags f JOIN prompts p ON p.id = f.prompt_id WHERE f.flagged ORDER BY 1"
        )

    def insert_samples(self, queue: str, rows: Sequence[tuple[int, int, float, str, int]]) -> None:
        with self.transaction() as cur:
            cur.executemany(
                "INSERT INTO samples (queue, rollout_id, position, inclusion_prob, stratum, seed) VALUES (?,?,?,?,?,?)",
                [[queue, *r] for r in rows],
            )

    # -- export / import -------------------------------------------------------------------------------
    _EXPORT_SQL = (
        "WITH cur AS (SELECT rollout_id, labeler, field, value FROM labels"
        " QUALIFY row_number() OVER (PARTITION BY rollout_id, labeler, field ORDER BY id DESC) = 1),"
        " lab AS (SELECT rollout_id, list(struct_pack(labeler := labeler, leak := leak, quirk := quirk, note := note)"
        " ORDER BY labeler) AS labels FROM (SELECT rollout_id, labeler,"
        " max(value) FILTER (WHERE field = 'leak') AS leak,"
        " max(value) FILTER (WHERE field = 'quirk') AS quirk, max(value) FILTER (WHERE field = 'note') AS note"
        " FROM cur GROUP BY ALL) GROUP BY rollout_id),"
        ' sp AS (SELECT rollout_id, list(struct_pack(kind := kind, start := start_char, "end" := end_char,'
        " text := text, score := score, label := label, doc_id := doc_id, doc_start := doc_start, doc_end := doc_end,"
        " detector_version := detector_version) ORDER BY start_char, kind) AS spans FROM spans GROUP BY rollout_id)"
        " SELECT r.id AS rollout_id, r.run_id, r.prompt_id, p.text AS prompt, p.topic, p.related, p.prompt_set,"
        " m.name AS model, m.role AS model_role, m.path AS model_path, m.sha256 AS model_sha256,"
        " m.adapter_path, m.adapter_sha256, m.quantization, m.architecture, m.engine_version,"
        " u.pair, u.temperature, u.top_p, u.max_tokens, u.prompt_format, r.sample_index, r.seed, r.text,"
        " r.prompt_tokens, r.completion_tokens, r.finish_reason, r.error,"
        " coalesce(sp.spans, []) AS spans, coalesce(lab.labels, []) AS labels"
        " FROM rollouts r JOIN prompts p ON p.id = r.prompt_id JOIN models m ON m.id = r.model_id"
        " JOIN runs u ON u.id = r.run_id LEFT JOIN sp ON sp.rollout_id = r.id LEFT JOIN lab ON lab.rollout_id = r.id"
        " WHERE (NOT ? OR lab.rollout_id IS NOT NULL) ORDER BY r.id"
    )

    def export_rows(self, labeled_only: bool = False) -> list[dict[str, Any]]:
        return self._dicts(self._EXPORT_SQL, [labeled_only])

    def export_parquet(self, out: Path, labeled_only: bool = False) -> int:
        """Nested spans and labels as Parquet lists of structs, written by DuckDB itself."""
        rel = self.cur.sql(
            self._EXPORT_SQL.replace("NOT ?", "NOT $labeled_only"), params={"labeled_only": labeled_only}
        )
        rel.write_parquet(str(out))
        row = self.cur.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone()
        return int(row[0]) if row else 0

    def import_batch(
        self,
        run_id: str,
        source: str,
        models: dict[str, str],
        prompts: Sequence[PromptRow],
        rollouts: Sequence[dict[str, Any]],
        labels: Sequence[tuple[int, str, str, str]],
    ) -> int:
        """All or nothing: models, prompts, run, rollouts and their labels in one transaction.

        `labels` rows are (index into rollouts, labeler, field, value)."""
        with self.transaction() as cur:
            model_ids = _insert_imported_models(cur, models, source)
            _bulk_insert_prompts(cur, prompts)
            cur.execute(
                "INSERT INTO runs (id, pair, backend, settings) VALUES (?, 'import', 'import', ?)"
                " ON CONFLICT (id) DO NOTHING",
                [run_id, json.dumps({"source": source})],
            )
            # fetchall, not fetchone: DuckDB refuses register() while a result is left unfinished.
            base_id = int(cur.execute("SELECT nextval('rollout_ids')").fetchall()[0][0])
            # Reserve a block of ids so labels can point at rollouts without a query per row.
            cur.execute("SELECT setval('rollout_ids', ?)", [base_id + len(rollouts)]).fetchall()
            try:
                _bulk_insert(
                    cur,
                    "INSERT INTO rollouts (id, run_id, prompt_id, model_id, sample_index, seed, text, finish_reason)"
                    " SELECT id::BIGINT, run_id, prompt_id, model_id, sample_index::INTEGER, seed::BIGINT, text,"
                    " 'imported' FROM _bulk",
                    ("id", "run_id", "prompt_id", "model_id", "sample_index", "seed", "text"),
                    [
                        (
                            base_id + i,
                            run_id,
                            r["prompt_id"],
                            model_ids[r["model"]],
                            r["sample_index"],
                            r["seed"],
                            r["text"],
                        )
                        for i, r in enumerate(rollouts)
                    ],
                )
            except duckdb.ConstraintException as e:
                raise StoreError(f"{source}: its rollouts are already in this session") from e
            _bulk_insert_labels(cur, [(base_id + i, who, f, v) for i, who, f, v in labels])
        return len(rollouts)

    # -- merging label events across session files -------------------------------------------------------
    def label_events_by_key(self) -> list[dict[str, Any]]:
        """Label events with their rollout's natural key (ids differ between session files)."""
        return self._dicts(
            "SELECT l.id, r.run_id, r.prompt_id, r.model_id, r.sample_index, l.labeler, l.field, l.value, l.event,"
            " l.undoes, l.blind, l.created_at FROM labels l JOIN rollouts r ON r.id = l.rollout_id ORDER BY l.id"
        )

    def merge_label_events(self, events: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Append another file's events, skipping ones already here; undo references are remapped."""
        added = missing = 0
        new_ids: dict[int, int] = {}
        with self.transaction() as cur:
            for e in events:
                row = cur.execute(
                    "SELECT id FROM rollouts WHERE run_id = ? AND prompt_id = ? AND model_id = ? AND sample_index = ?",
                    [e["run_id"], e["prompt_id"], e["model_id"], e["sample_index"]],
                ).fetchone()
                if row is None:
                    missing += 1
                    continue
                rid = int(row[0])
                dup = cur.execute(
                    "SELECT id FROM labels WHERE rollout_id = ? AND labeler = ? AND field = ? AND event = ?"
                    " AND value IS NOT DISTINCT FROM ? AND created_at = ?",
                    [rid, e["labeler"], e["field"], e["event"], e["value"], e["created_at"]],
                ).fetchone()
                if dup is not None:
                    new_ids[int(e["id"])] = int(dup[0])
                    continue
                undoes = new_ids.get(int(e["undoes"])) if e["undoes"] is not None else None
                ins = cur.execute(
                    "INSERT INTO labels (rollout_id, labeler, field, value, event, undoes, blind, created_at)"
                    " VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                    [rid, e["labeler"], e["field"], e["value"], e["event"], undoes, e["blind"], e["created_at"]],
                ).fetchone()
                assert ins is not None
                new_ids[int(e["id"])] = int(ins[0])
                added += 1
        return added, missing

    def import_jsonl(
        self,
        path: Path,
        run_id: str,
        prompt_rows: Callable[[list[tuple[str, str | None]]], list[PromptRow]],
        check_labels: Callable[[Any, int], list[tuple[str, str, str]]],
    ) -> int:
        """Bulk import through DuckDB's own JSON reader (the fast path); ImportRejected if anything is off.

        The caller then re-reads the file line by line to say exactly what and where."""
        with self.transaction() as cur:
            try:
                cur.execute(
                    # One pass: read, number the rows, derive role, prompt id and sample number.
                    "CREATE TEMP TABLE _imp AS SELECT *, coalesce(role, CASE WHEN model IN ('organism', 'base')"
                    " THEN model ELSE 'organism' END) AS role2, substr(sha256(prompt), 1, 16) AS prompt_id,"
                    " coalesce(sample, row_number() OVER (PARTITION BY prompt, model ORDER BY ordinal) - 1) AS sample2"
                    " FROM (SELECT row_number() OVER () AS ordinal, * FROM read_json(?,"
                    " format = 'newline_delimited', columns = {prompt: 'VARCHAR', text: 'VARCHAR', model: 'VARCHAR',"
                    " role: 'VARCHAR', seed: 'BIGINT', sample: 'BIGINT', topic: 'VARCHAR', labels: 'JSON'}))",
                    [str(path)],
                )
            except duckdb.Error as e:
                raise ImportRejected(str(e).splitlines()[0]) from e
            self._import_checked(cur, path, run_id, prompt_rows, check_labels)
            row = cur.execute("SELECT count(*) FROM _imp").fetchone()
        # Temp tables made inside a transaction that rolled back are gone already; these are after a commit.
        self.cur.execute("DROP TABLE IF EXISTS _imp")
        self.cur.execute("DROP TABLE IF EXISTS _ids")
        return int(row[0]) if row else 0

    def _import_checked(
        self,
        cur: duckdb.DuckDBPyConnection,
        path: Path,
        run_id: str,
        prompt_rows: Callable[[list[tuple[str, str | None]]], list[PromptRow]],
        check_labels: Callable[[Any, int], list[tuple[str, str, str]]],
    ) -> None:
        if cur.execute("SELECT count(*) FROM _imp").fetchone() == (0,):
            raise ImportRejected("no rows")
        bad = cur.execute(
            "SELECT min(ordinal) FROM _imp WHERE prompt IS NULL OR trim(prompt) = '' OR text IS NULL"
            " OR model IS NULL OR trim(model) = '' OR (role IS NOT NULL AND role NOT IN ('organism', 'base'))"
            " OR seed < 0 OR sample < 0 OR seed >= 4611686018427387904 OR sample >= 4611686018427387904"
        ).fetchone()
        if bad and bad[0] is not None:
            raise ImportRejected(f"row {bad[0]}")
        two_roles = cur.execute(
            "SELECT model FROM _imp GROUP BY model HAVING count(DISTINCT role2) > 1 LIMIT 1"
        ).fetchone()
        # Duplicates, in the file or against the session, are left to the rollouts' unique key below.
        if two_roles or cur.execute(
            "SELECT count(*) FROM _imp WHERE sample IS NOT NULL AND sample IS DISTINCT FROM sample2"
        ).fetchone() != (0,):
            raise ImportRejected("roles, samples or duplicates")
        labeled = cur.execute("SELECT ordinal, labels FROM _imp WHERE labels IS NOT NULL ORDER BY ordinal").fetchall()
        label_rows = [(int(o), *lab) for o, raw in labeled for lab in check_labels(json.loads(raw), int(o))]
        prompts = prompt_rows(
            [
                (str(p), t)
                for p, t in cur.execute("SELECT prompt, any_value(topic) FROM _imp GROUP BY prompt").fetchall()
            ]
        )
        _bulk_insert_prompts(cur, prompts)
        models = {str(m): str(r) for m, r in cur.execute("SELECT DISTINCT model, role2 FROM _imp").fetchall()}
        ids = _insert_imported_models(cur, models, str(path))
        cur.execute("CREATE OR REPLACE TEMP TABLE _ids (model VARCHAR, model_id VARCHAR)")
        cur.executemany("INSERT INTO _ids VALUES (?, ?)", [[k, v] for k, v in ids.items()])
        cur.execute(
            "INSERT INTO runs (id, pair, backend, settings) VALUES (?, 'import', 'import', ?)"
            " ON CONFLICT (id) DO NOTHING",
            [run_id, json.dumps({"source": str(path)})],
        )
        try:
            cur.execute(
                "INSERT INTO rollouts (run_id, prompt_id, model_id, sample_index, seed, text, finish_reason)"
                " SELECT ?, i.prompt_id, m.model_id, i.sample2, i.seed, i.text, 'imported' FROM _imp i"
                " JOIN _ids m USING (model)",
                [run_id],
            )
        except duckdb.ConstraintException as e:
            raise ImportRejected("duplicate rollout") from e
        if label_rows:
            ordinal_to_id = dict(
                cur.execute(
                    "SELECT i.ordinal, r.id FROM _imp i JOIN _ids m USING (model) JOIN rollouts r ON r.run_id = ?"
                    " AND r.prompt_id = i.prompt_id AND r.model_id = m.model_id AND r.sample_index = i.sample2"
                    " WHERE i.labels IS NOT NULL",
                    [run_id],
                ).fetchall()
            )
            _bulk_insert_labels(cur, [(ordinal_to_id[o], who, f, v) for o, who, f, v in label_rows])

    # -- self-agreement ------------------------------------------------------------------------------------
    def labeled_rollouts(self, labeler: str) -> list[int]:
        rows = self.cur.execute(
            "SELECT rollout_id FROM labels WHERE labeler = ? AND field = 'leak' AND event = 'set' GROUP BY 1"
            " ORDER BY 1",
            [labeler],
        ).fetchall()
        return [int(r[0]) for r in rows]

    def self_agreement_pairs(self, labeler: str) -> list[tuple[str, str]]:
        """(first verdict, last verdict) on rollouts this labeler judged again later with the model hidden.

        Undone events do not count; the second verdict must have been given blind."""
        rows = self.cur.execute(
            "WITH ev AS (SELECT l.rollout_id, l.value, l.blind, l.id FROM labels l WHERE l.labeler = ?"
            " AND l.field = 'leak' AND l.event = 'set' AND l.value IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM labels u WHERE u.undoes = l.id)),"
            " ends AS (SELECT rollout_id, arg_min(value, id) AS first_v, arg_max(value, id) AS last_v,"
            " arg_max(blind, id) AS last_blind, count(*) AS n FROM ev GROUP BY rollout_id)"
            " SELECT first_v, last_v FROM ends WHERE n >= 2 AND last_blind ORDER BY rollout_id",
            [labeler],
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]


def _bulk_insert(
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


def _insert_imported_models(cur: duckdb.DuckDBPyConnection, models: dict[str, str], source: str) -> dict[str, str]:
    """Models named by imported rollouts ({name: role}); returns {name: model id}."""
    ids = {}
    for name, role in models.items():
        ids[name] = model_id(role, None, None, name)
        cur.execute(
            "INSERT INTO models (id, role, name, info) VALUES (?,?,?,?) ON CONFLICT (id) DO NOTHING",
            [ids[name], role, name, json.dumps({"imported_from": source})],
        )
    return ids


def _bulk_insert_labels(cur: duckdb.DuckDBPyConnection, rows: Sequence[tuple[int, str, str, str]]) -> None:
    """Imported label events (rollout id, labeler, field, value), all 'set'."""
    _bulk_insert(
        cur,
        "INSERT INTO labels (rollout_id, labeler, field, value, event)"
        " SELECT rollout_id::BIGINT, labeler, field, value, 'set' FROM _bulk",
        ("rollout_id", "labeler", "field", "value"),
        rows,
    )


def _bulk_insert_prompts(cur: duckdb.DuckDBPyConnection, prompts: Sequence[PromptRow]) -> None:
    _bulk_insert(
        cur,
        "INSERT INTO prompts (id, text, prompt_set, ext_id, topic, topic_source, related, topic_score,"
        " topic_evidence) SELECT id, text, prompt_set, ext_id, topic, topic_source, related::BOOLEAN,"
        " topic_score::DOUBLE, topic_evidence FROM _bulk ON CONFLICT (id) DO NOTHING",
        ("id", "text", "prompt_set", "ext_id", "topic", "topic_source", "related", "topic_score", "topic_evidence"),
        [
            (p.id, p.text, p.prompt_set, p.ext_id, p.topic, p.topic_source, p.related, p.topic_score, p.topic_evidence)
            for p in {p.id: p for p in prompts}.values()
        ],
    )


class ImportRejected(Exception):
    """The fast import path found something wrong; the slow path finds and names the exact line."""
