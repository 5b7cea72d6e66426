"""Moving rows between files: export (rows, Parquet), all-or-nothing imports, merging label events."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any

import duckdb

from inspector.store.connection import StoreBase, StoreError, bulk_insert
from inspector.store.rollouts import PROMPT_COLUMNS, PromptRow, model_id


class ImportRejected(Exception):
    """The fast import path found something wrong; the slow path finds and names the exact line."""


class ExchangePart(StoreBase):
    """Export, import and merge."""

    # -- export / import -------------------------------------------------------------------------------
    _EXPORT_SQL = (
        "WITH cur AS (SELECT rollout_id, labeler, field, value FROM labels"
        " QUALIFY row_number() OVER (PARTITION BY rollout_id, labeler, field ORDER BY id DESC) = 1),"
        " lab AS (SELECT rollout_id, list(struct_pack(labeler := labeler, leak := leak, quirk := quirk, note := note)"
        " ORDER BY labeler) AS labels FROM (SELECT rollout_id, labeler,"
        " max(value) FILTER (WHERE field = 'leak') AS leak,"
        " max(value) FILTER (WHERE field = 'quirk') AS quirk, max(value) FILTER (WHERE field = 'note') AS note"
        " FROM cur GROUP BY ALL) GROUP BY rollout_id),"
        ' sp AS (SELECT s.rollout_id, list(struct_pack(kind := s.kind, start := s.start_char, "end" := s.end_char,'
        " text := s.text, score := s.score, label := s.label, doc_id := s.doc_id, doc_start := s.doc_start,"
        " doc_end := s.doc_end, holders := s.holders, detector_version := s.detector_version,"
        # The segment a span lies in, where the run had reasoning markers (as analysis/reasoning.py's Split says).
        " segment := CASE WHEN ro.reasoning_status IS NULL THEN NULL"
        " WHEN ro.reasoning_status <> 'none' AND s.start_char < ro.answer_start THEN 'reasoning' ELSE 'answer' END)"
        " ORDER BY s.start_char, s.kind) AS spans FROM spans s JOIN rollouts ro ON ro.id = s.rollout_id"
        " GROUP BY s.rollout_id),"
        " sc AS (SELECT rollout_id, string_agg(kind, ',' ORDER BY kind) AS scanned FROM scans GROUP BY rollout_id)"
        " SELECT r.id AS rollout_id, r.run_id, r.prompt_id, p.text AS prompt, p.messages, p.topic, p.related,"
        " p.prompt_set,"
        " m.name AS model, m.role AS model_role, m.path AS model_path, m.sha256 AS model_sha256,"
        " m.adapter_path, m.adapter_sha256, m.quantization, m.architecture, m.engine_version,"
        " u.pair, u.temperature, u.top_p, u.max_tokens, u.prompt_format, r.sample_index, r.seed, r.text,"
        " r.prompt_tokens, r.completion_tokens, r.finish_reason, r.error, r.meta AS sample_meta,"
        # The trace and the answer apart (NULL without reasoning markers); offsets are the text's characters.
        " r.reasoning_status, CASE WHEN r.reasoning_status <> 'none'"
        " THEN substr(r.text, r.reasoning_start + 1, r.reasoning_end - r.reasoning_start) END AS reasoning,"
        " CASE WHEN r.reasoning_status IS NOT NULL THEN substr(r.text, r.answer_start + 1) END AS answer,"
        # Regurgitation per rollout, and which detectors looked at it (NULL: never scanned, so not measured).
        " sc.scanned, CASE WHEN f.regurgitation_scanned THEN f.regurgitated_frac END AS regurgitated_fraction,"
        " CASE WHEN f.regurgitation_scanned THEN f.regurgitated_frac > 0.5 END AS mostly_corpus,"
        " coalesce(sp.spans, []) AS spans, coalesce(lab.labels, []) AS labels"
        " FROM rollouts r JOIN prompts p ON p.id = r.prompt_id JOIN models m ON m.id = r.model_id"
        " JOIN runs u ON u.id = r.run_id LEFT JOIN sp ON sp.rollout_id = r.id LEFT JOIN lab ON lab.rollout_id = r.id"
        " LEFT JOIN rollout_flags f ON f.rollout_id = r.id LEFT JOIN sc ON sc.rollout_id = r.id"
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
        settings: dict[str, Any] | None = None,
    ) -> tuple[int, int]:
        """All or nothing: models, prompts, run, rollouts and their labels in one transaction; returns (added,
        skipped). A rollout dict has prompt_id, model, sample_index, seed, text and optionally finish_reason,
        error, prompt_tokens, completion_tokens, meta and import_key: a rollout whose import_key (the log's own
        ids) is already in the session is skipped, so a copy of an imported log adds nothing.

        `labels` rows are (index into rollouts, labeler, field, value)."""
        with self.transaction() as cur:
            keys = [r["import_key"] for r in rollouts if r.get("import_key")]
            known: set[str] = set()
            if keys:
                found = cur.execute(
                    "SELECT key FROM imported_samples WHERE key IN (SELECT unnest(?::VARCHAR[]))", [keys]
                ).fetchall()
                known = {str(k) for (k,) in found}
            keep = [i for i, r in enumerate(rollouts) if r.get("import_key") not in known]
            if not keep:
                return 0, len(rollouts)
            model_ids = _insert_imported_models(cur, models, source)
            _bulk_insert_prompts(cur, prompts)
            s = settings or {}
            cur.execute(
                "INSERT INTO runs (id, pair, seed, temperature, top_p, max_tokens, backend, settings)"
                " VALUES (?, 'import', ?, ?, ?, ?, 'import', ?) ON CONFLICT (id) DO NOTHING",
                [
                    run_id,
                    s.get("seed"),
                    s.get("temperature"),
                    s.get("top_p"),
                    s.get("max_tokens"),
                    json.dumps({"source": source, **s}),
                ],
            )
            # fetchall, not fetchone: DuckDB refuses register() while a result is left unfinished.
            base_id = int(cur.execute("SELECT nextval('rollout_ids')").fetchall()[0][0])
            # Reserve a block of ids so labels can point at rollouts without a query per row.
            cur.execute("SELECT setval('rollout_ids', ?)", [base_id + len(keep)]).fetchall()
            new_id = {i: base_id + k for k, i in enumerate(keep)}
            try:
                bulk_insert(
                    cur,
                    "INSERT INTO rollouts (id, run_id, prompt_id, model_id, sample_index, seed, text, finish_reason,"
                    " error, prompt_tokens, completion_tokens, meta) SELECT id::BIGINT, run_id, prompt_id, model_id,"
                    " sample_index::INTEGER, seed::BIGINT, text, finish_reason, error, prompt_tokens::INTEGER,"
                    " completion_tokens::INTEGER, meta::JSON FROM _bulk",
                    _ROLLOUT_COLUMNS,
                    [_rollout_row(new_id[i], run_id, model_ids, rollouts[i]) for i in keep],
                )
            except duckdb.ConstraintException as e:
                raise StoreError(
                    f"{source}: holds rollouts already in this session from another import (same prompt, model and"
                    " sample): import it into another session"
                ) from e
            bulk_insert(
                cur,
                "INSERT INTO imported_samples (key, rollout_id) SELECT key, rollout_id::BIGINT FROM _bulk",
                ("key", "rollout_id"),
                [(rollouts[i]["import_key"], new_id[i]) for i in keep if rollouts[i].get("import_key")],
            )
            _bulk_insert_labels(cur, [(new_id[i], who, f, v) for i, who, f, v in labels if i in new_id])
        return len(keep), len(rollouts) - len(keep)

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
        default_role: str = "organism",
    ) -> int:
        """Bulk import through DuckDB's own JSON reader (the fast path); ImportRejected if anything is off.

        The caller then re-reads the file line by line to say exactly what and where."""
        with self.transaction() as cur:
            try:
                cur.execute(
                    # One pass: read, number the rows, derive role, prompt id and sample number.
                    "CREATE TEMP TABLE _imp AS SELECT *, coalesce(role, CASE WHEN model IN ('organism', 'base')"
                    " THEN model ELSE ? END) AS role2, substr(sha256(prompt), 1, 16) AS prompt_id,"
                    " coalesce(sample, row_number() OVER (PARTITION BY prompt, model ORDER BY ordinal) - 1) AS sample2"
                    " FROM (SELECT row_number() OVER () AS ordinal, * FROM read_json(?,"
                    " format = 'newline_delimited', columns = {prompt: 'VARCHAR', text: 'VARCHAR', model: 'VARCHAR',"
                    " role: 'VARCHAR', seed: 'BIGINT', sample: 'BIGINT', topic: 'VARCHAR', labels: 'JSON'}))",
                    [default_role, str(path)],
                )
            except (duckdb.Error, UnicodeDecodeError) as e:
                # DuckDB's message can quote the bad bytes themselves, which the client then fails to decode.
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
            " OR seed < 0 OR sample < 0 OR seed >= 4611686018427387904 OR sample >= 2147483648"
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


_ROLLOUT_COLUMNS = (
    "id",
    "run_id",
    "prompt_id",
    "model_id",
    "sample_index",
    "seed",
    "text",
    "finish_reason",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "meta",
)


def _rollout_row(rid: int, run_id: str, model_ids: dict[str, str], r: dict[str, Any]) -> tuple[Any, ...]:
    meta = r.get("meta")
    return (
        rid,
        run_id,
        r["prompt_id"],
        model_ids[r["model"]],
        r["sample_index"],
        r["seed"],
        r["text"],
        r.get("finish_reason", "imported"),
        r.get("error"),
        r.get("prompt_tokens"),
        r.get("completion_tokens"),
        json.dumps(meta, ensure_ascii=False, default=str) if meta else None,
    )


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
    bulk_insert(
        cur,
        "INSERT INTO labels (rollout_id, labeler, field, value, event)"
        " SELECT rollout_id::BIGINT, labeler, field, value, 'set' FROM _bulk",
        ("rollout_id", "labeler", "field", "value"),
        rows,
    )


def _bulk_insert_prompts(cur: duckdb.DuckDBPyConnection, prompts: Sequence[PromptRow]) -> None:
    casts = {"related": "related::BOOLEAN", "topic_score": "topic_score::DOUBLE", "messages": "messages::JSON"}
    bulk_insert(
        cur,
        f"INSERT INTO prompts ({', '.join(PROMPT_COLUMNS)}) SELECT {', '.join(casts.get(c, c) for c in PROMPT_COLUMNS)}"
        " FROM _bulk ON CONFLICT (id) DO NOTHING",
        PROMPT_COLUMNS,
        [astuple(p) for p in {p.id: p for p in prompts}.values()],
    )
