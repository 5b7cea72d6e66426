"""Models, prompts, runs and rollouts: what a run writes and what the screens page through."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any

from inspector.store.connection import StoreBase, bulk_insert


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
    messages: str | None = None  # JSON: the conversation before the prompt (system prompt, earlier turns)


# The prompts table's columns, in PromptRow's field order (fixed names, never user text).
PROMPT_COLUMNS = tuple(f.name for f in fields(PromptRow))
_PROMPT_TYPES = {"related": "BOOLEAN", "topic_score": "DOUBLE", "messages": "JSON"}  # the rest are VARCHAR
_PROMPT_CASTS = ", ".join(f"{c}::{_PROMPT_TYPES.get(c, 'VARCHAR')}" for c in PROMPT_COLUMNS)


# A rollout's columns as the runner writes them, and the types a column frame of Python objects is cast to.
_ROLLOUT_TYPES = {
    "run_id": "VARCHAR",
    "prompt_id": "VARCHAR",
    "model_id": "VARCHAR",
    "sample_index": "INTEGER",
    "seed": "BIGINT",
    "text": "VARCHAR",
    "prompt_tokens": "INTEGER",
    "completion_tokens": "INTEGER",
    "finish_reason": "VARCHAR",
    "seconds": "DOUBLE",
    "error": "VARCHAR",
    "reasoning_status": "VARCHAR",
    "reasoning_start": "INTEGER",
    "reasoning_end": "INTEGER",
    "answer_start": "INTEGER",
}
_ROLLOUT_COLUMNS = tuple(_ROLLOUT_TYPES)
_ROLLOUT_CASTS = ", ".join(f"{c}::{t}" for c, t in _ROLLOUT_TYPES.items())


def model_id(
    role: str | None,
    sha256: str | None,
    adapter_sha256: str | None,
    name: str | None,
    adapter_scale: float | None = None,
) -> str:
    """Stable for the same files, role, name and adapter strength (the same adapter at another scale is another
    model; full strength keeps the id it had before scales existed); imported models have no files, so their
    shas are None."""
    key: list[Any] = [role, sha256, adapter_sha256, name]
    if adapter_scale is not None and adapter_scale != 1.0:
        key.append(adapter_scale)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


def prompt_id(text: str, context: str | None = None) -> str:
    """Prompts are identified by their text, so the same prompt in two sets is one row; an imported sample's
    conversation and id (`context`) are part of its identity, so the same question under two system prompts, or
    as two samples of a dataset, are two prompts."""
    key = text if context is None else f"{text}\x00{context}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class RolloutsPart(StoreBase):
    """Models, prompts, runs and rollouts of a session."""

    # -- models, prompts, runs -------------------------------------------------------------------
    def upsert_model(self, info: dict[str, Any]) -> str:
        """Record a model's provenance; its id is stable for the same files, role and adapter strength."""
        get = info.get
        mid = model_id(get("role"), get("sha256"), get("adapter_sha256"), get("name"), get("adapter_scale"))
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
        """Add prompts the session does not hold yet (a prompt already there is kept as it is), through a column
        frame: executemany costs about 5 ms a row, which a served run of 9,292 prompts would wait 45 s for."""
        rows = list({p.id: astuple(p) for p in reversed(list(prompts))}.values())[::-1]  # the first of each id
        if rows:
            with self.transaction() as cur:
                bulk_insert(
                    cur,
                    f"INSERT INTO prompts ({', '.join(PROMPT_COLUMNS)}) SELECT {_PROMPT_CASTS} FROM _bulk"
                    " ON CONFLICT (id) DO NOTHING",
                    PROMPT_COLUMNS,
                    rows,
                )

    def guessed_prompts(self) -> list[tuple[str, str]]:
        """(id, text) of prompts whose topic only the lexicon guessed (no given topic, no probe verdict yet)."""
        rows = self.cur.execute("SELECT id, text FROM prompts WHERE topic_source = 'guessed' ORDER BY id").fetchall()
        return [(str(a), str(b)) for a, b in rows]

    def set_prompt_topics(self, verdicts: Sequence[tuple[str, bool, float]]) -> None:
        """Record (prompt id, related, probe probability) as the probe's verdicts."""
        with self.transaction() as cur:
            for pid, related, p in verdicts:
                cur.execute(
                    "UPDATE prompts SET related = ?, topic_score = ?, topic_source = 'probe' WHERE id = ?",
                    [related, round(p, 3), pid],
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

    def run_settings(self, run_id: str) -> dict[str, Any]:
        """The settings a run was made with (empty for an unknown run)."""
        row = self.cur.execute("SELECT settings FROM runs WHERE id = ?", [run_id]).fetchone()
        return dict(json.loads(row[0])) if row and row[0] else {}

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
        return self.insert_rollouts([row])[0]

    def insert_rollouts(self, rows: Sequence[dict[str, Any]]) -> list[int | None]:
        """Insert rollouts in one transaction and two statements, whatever their number (a served run lands
        hundreds a second; two statements per row cost about 10 ms); each one's id, None where it existed. A
        failed rollout kept before is replaced. All or none of them are kept."""
        import numpy as np

        if not rows:
            return []
        frame = {c: np.array([row.get(c) for row in rows], dtype=object) for c in _ROLLOUT_COLUMNS}
        with self.transaction() as cur:
            cur.register("_new_rollouts", frame)
            cur.execute(
                "DELETE FROM rollouts r USING _new_rollouts n WHERE r.error IS NOT NULL AND r.run_id = n.run_id"
                " AND r.prompt_id = n.prompt_id AND r.model_id = n.model_id"
                " AND r.sample_index = n.sample_index::INTEGER"
            )
            got = cur.execute(
                f"INSERT INTO rollouts ({', '.join(_ROLLOUT_COLUMNS)}) SELECT {_ROLLOUT_CASTS} FROM _new_rollouts"
                " ON CONFLICT DO NOTHING RETURNING id, prompt_id, model_id, sample_index"
            ).fetchall()
            cur.unregister("_new_rollouts")
        ids = {(r[1], r[2], int(r[3])): int(r[0]) for r in got}
        return [ids.get((row["prompt_id"], row["model_id"], int(row["sample_index"]))) for row in rows]

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

    def texts_for_detection(self) -> list[tuple[int, str, str]]:
        rows = self.cur.execute(
            "SELECT r.id, p.text, r.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
            " WHERE r.error IS NULL ORDER BY r.id"
        ).fetchall()
        return [(int(a), str(b), str(c)) for a, b, c in rows]

    def run_pairs(self) -> list[str]:
        return [str(r[0]) for r in self.cur.execute("SELECT DISTINCT pair FROM runs ORDER BY 1").fetchall()]

    # -- browsing (the TUI pages through these) --------------------------------------------------------
    def data_version(self) -> tuple[int, ...]:
        """Moves whenever prompts, rollouts, spans or labels are added (by this process or one it shares the
        session with): the screens poll it to show what a run or another labeler wrote."""
        row = self.cur.execute(
            "SELECT (SELECT count(*) FROM prompts), (SELECT count(*) FROM rollouts),"
            " (SELECT coalesce(max(id), 0) FROM rollouts), (SELECT coalesce(max(id), 0) FROM spans),"
            " (SELECT coalesce(max(id), 0) FROM labels), (SELECT count(*) FROM samples)"
        ).fetchone()
        return tuple(int(v) for v in row) if row else ()

    def system_prompts(self) -> list[str]:
        """The distinct system prompts the session's prompts are under, most used first."""
        rows = self.cur.execute(
            "SELECT json_extract_string(messages, '$[0].content') AS s, count(*) AS n FROM prompts"
            " WHERE json_extract_string(messages, '$[0].role') = 'system' GROUP BY s ORDER BY n DESC, s"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def prompt_list(self, limit: int = 5000, offset: int = 0) -> list[dict[str, Any]]:
        """The session's prompts, with how many of their rollouts are flagged or leak."""
        return self._dicts(
            "SELECT p.id, p.text, p.topic, p.related, p.messages, count(f.rollout_id) AS n_rollouts,"
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
            " r.sample_index, r.seed, r.text, r.completion_tokens, r.finish_reason, p.messages, r.reasoning_status,"
            " r.reasoning_start, r.answer_start FROM rollouts r"
            " JOIN prompts p ON p.id = r.prompt_id JOIN models m ON m.id = r.model_id WHERE r.id = ?",
            [rollout_id],
        )
        return rows[0] if rows else None

    def other_side(self, rollout_id: int) -> dict[str, Any] | None:
        """The other role's rollout of the same run, prompt and sample (so the same seed), if there is one."""
        rows = self._dicts(
            "SELECT o.id, o.text, m.role, m.name AS model, o.seed FROM rollouts r JOIN models rm ON rm.id = r.model_id"
            " JOIN rollouts o ON o.run_id = r.run_id AND o.prompt_id = r.prompt_id AND o.sample_index = r.sample_index"
            " JOIN models m ON m.id = o.model_id WHERE r.id = ? AND m.role <> rm.role ORDER BY o.id LIMIT 1",
            [rollout_id],
        )
        return rows[0] if rows else None

    def run_texts(self, run_id: str) -> list[tuple[str, str, str, str | None]]:
        """(prompt id, role, text, reasoning status) of every rollout one run made without an error."""
        rows = self.cur.execute(
            "SELECT r.prompt_id, m.role, r.text, r.reasoning_status FROM rollouts r JOIN models m ON m.id = r.model_id"
            " WHERE r.run_id = ? AND r.error IS NULL AND r.text IS NOT NULL ORDER BY r.id",
            [run_id],
        ).fetchall()
        return [(str(p), str(role), str(t), None if st is None else str(st)) for p, role, t, st in rows]

    def side_by_side(self, prompt_id: str, sample: int, organism: str | None = None) -> dict[str, dict[str, Any]]:
        """The newest run's organism and base rollouts for one prompt and sample, keyed by role; `organism` (a
        model id) picks the organism's rollout from that model, such as one strength of a sweep."""
        rows = self._dicts(
            "SELECT r.id, r.run_id, m.role, m.name, r.seed, r.text, r.sample_index, r.reasoning_status,"
            " r.reasoning_start, r.answer_start FROM rollouts r"
            " JOIN models m ON m.id = r.model_id JOIN runs u ON u.id = r.run_id"
            " WHERE r.prompt_id = ? AND r.sample_index = ? AND r.error IS NULL"
            " AND (m.role <> 'organism' OR ?::VARCHAR IS NULL OR m.id = ?) ORDER BY u.created_at, r.id",
            [prompt_id, sample, organism, organism],
        )
        return {str(r["role"]): r for r in rows}  # later runs overwrite earlier ones

    def organism_strengths(self) -> list[tuple[str, str, float]]:
        """(model id, name, adapter strength) of every organism with rollouts, weakest first; an organism
        recorded without a strength ran at full strength."""
        rows = self.cur.execute(
            "SELECT m.id, m.name, coalesce(TRY_CAST(json_extract_string(m.info, '$.adapter_scale') AS DOUBLE), 1.0)"
            " AS scale FROM models m WHERE m.role = 'organism'"
            " AND EXISTS (SELECT 1 FROM rollouts r WHERE r.model_id = m.id) ORDER BY scale, m.name"
        ).fetchall()
        return [(str(i), str(n or i), float(s)) for i, n, s in rows]

    def samples_for(self, prompt_id: str) -> int:
        row = self.cur.execute(
            "SELECT coalesce(max(sample_index) + 1, 0) FROM rollouts WHERE prompt_id = ?", [prompt_id]
        ).fetchone()
        return int(row[0]) if row else 0
