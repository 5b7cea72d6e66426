"""Find and triage: text search over prompts and completions, and the filters of the prompt list and label queue."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from inspector.store.connection import StoreBase, StoreError, bulk_insert

SPAN_KINDS = ("term", "regurgitation", "quirk", "control", "degenerate")
TRACE_CHOICES = ("broken", "unclosed", "empty_answer", "closed", "none")


@dataclass(frozen=True)
class Filters:
    """What the prompt list and the label queue show; every field None means "any". Combinable."""

    role: str | None = None  # organism | base
    kind: str | None = None  # a span kind the rollout has: term | regurgitation | quirk | control | degenerate
    nonsequitur: bool | None = None  # a non-sequitur candidate (leak on an unrelated prompt)
    labeled: bool | None = None  # the current labeler has (not) given a leak verdict
    label: str | None = None  # that verdict: nonsequitur | related | none
    topic: str | None = None
    related: bool | None = None
    run: str | None = None
    trace: str | None = None  # the reasoning trace: broken (unclosed or empty_answer), or one status

    def active(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def describe(self) -> str:
        """One line for the screen: what is filtered on."""
        parts = [
            f"{k}={'yes' if v is True else 'no' if v is False else v}" for k, v in asdict(self).items() if v is not None
        ]
        return "filters: " + (", ".join(parts) if parts else "none")


def filter_sql(f: Filters, labeler: str) -> tuple[str, list[Any]]:
    """A WHERE fragment over rollout_flags `f` (joined to prompts `p`) and its parameters: fixed SQL, bound values."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.role is not None:
        where.append("f.role = ?")
        params.append(f.role)
    if f.kind is not None:
        if f.kind not in SPAN_KINDS:
            raise StoreError(f"unknown span kind {f.kind!r} (known: {', '.join(SPAN_KINDS)})")
        counted = {"term": "f.n_term > 0", "regurgitation": "f.n_regurgitation > 0", "quirk": "f.n_quirk > 0"}
        # Kinds the flags view does not count are looked up in the spans themselves (the kind is a bound value).
        where.append(
            counted.get(f.kind, "EXISTS (SELECT 1 FROM spans x WHERE x.rollout_id = f.rollout_id AND x.kind = ?)")
        )
        if f.kind not in counted:
            params.append(f.kind)
    if f.nonsequitur is not None:
        where.append("f.nonsequitur_candidate = ?")
        params.append(f.nonsequitur)
    if f.labeled is not None or f.label is not None:
        verdict = (
            "(SELECT value FROM labels l WHERE l.rollout_id = f.rollout_id AND l.labeler = ? AND l.field = 'leak'"
            " ORDER BY l.id DESC LIMIT 1)"
        )
        if f.labeled is not None:
            where.append(f"({verdict} IS NOT NULL) = ?")
            params += [labeler, f.labeled]
        if f.label is not None:
            where.append(f"{verdict} = ?")
            params += [labeler, f.label]
    if f.topic is not None:
        where.append("p.topic = ?")
        params.append(f.topic)
    if f.related is not None:
        where.append("f.related = ?")
        params.append(f.related)
    if f.run is not None:
        where.append("f.run_id = ?")
        params.append(f.run)
    if f.trace is not None:
        if f.trace not in TRACE_CHOICES:
            raise StoreError(f"unknown trace filter {f.trace!r} (known: {', '.join(TRACE_CHOICES)})")
        statuses = ["unclosed", "empty_answer"] if f.trace == "broken" else [f.trace]
        where.append("list_contains(?, (SELECT x.reasoning_status FROM rollouts x WHERE x.id = f.rollout_id))")
        params.append(statuses)
    return " AND ".join(where), params


class SearchPart(StoreBase):
    """Search and filters, all in DuckDB: a 100,000-rollout session answers without a Python loop over it."""

    def search(self, pattern: str, regex: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """Rollouts whose prompt or completion matches, case-insensitively: a substring, or a regular expression
        (RE2 syntax). At most `limit`: the first found in session order, shown newest first. No ORDER BY in SQL:
        it would make DuckDB test every row even when the first few thousand already hold `limit` matches."""
        if not pattern:
            return []
        cond = (
            "(regexp_matches(r.text, ?, 'i') OR regexp_matches(p.text, ?, 'i'))"
            if regex
            else "(contains(lower(r.text), lower(?)) OR contains(lower(p.text), lower(?)))"
        )
        try:
            rows = self._dicts(
                "SELECT r.id AS rollout_id, r.prompt_id, r.sample_index, r.run_id, m.role, m.name AS model,"
                f" p.text AS prompt, r.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
                f" JOIN models m ON m.id = r.model_id WHERE r.text IS NOT NULL AND {cond} LIMIT ?",
                [pattern, pattern, limit],
            )
        except duckdb.Error as e:
            raise StoreError(f"bad search pattern {pattern!r}: {str(e).splitlines()[0]}") from e
        return sorted(rows, key=lambda r: -int(r["rollout_id"]))

    def filtered_prompts(self, f: Filters, labeler: str, limit: int = 5000) -> list[dict[str, Any]]:
        """The prompt list restricted to prompts with at least one rollout passing the filters."""
        where, params = filter_sql(f, labeler)
        return self._dicts(
            "SELECT p.id, p.text, p.topic, p.related, p.messages, count(*) AS n_rollouts,"
            " count(*) FILTER (WHERE f.flagged) AS n_flagged, count(*) FILTER (WHERE f.leak) AS n_leak,"
            " count(*) FILTER (WHERE f.nonsequitur_candidate) AS n_nonsequitur"
            f" FROM rollout_flags f JOIN prompts p ON p.id = f.prompt_id WHERE {where}"
            " GROUP BY ALL ORDER BY min(f.rollout_id) LIMIT ?",
            [*params, limit],
        )

    def filtered_queue(self, f: Filters, labeler: str, within: str | None = None) -> list[int]:
        """The items of a queue (a drawn sample, else every flagged rollout) that pass the filters, in its order."""
        where, params = filter_sql(f, labeler)
        if within:
            rows = self.cur.execute(
                "SELECT f.rollout_id FROM samples s JOIN rollout_flags f ON f.rollout_id = s.rollout_id"
                f" JOIN prompts p ON p.id = f.prompt_id WHERE s.queue = ? AND {where} ORDER BY s.position",
                [within, *params],
            ).fetchall()
        else:
            rows = self.cur.execute(
                "SELECT f.rollout_id FROM rollout_flags f JOIN prompts p ON p.id = f.prompt_id"
                f" WHERE f.flagged AND {where} ORDER BY f.rollout_id",
                params,
            ).fetchall()
        return [int(r[0]) for r in rows]

    def set_filter_queue(self, name: str, ids: list[int]) -> None:
        """A filtered view of a queue, kept as a queue of its own so the Label screen pages it like any other; it
        is never a sample (no estimate reads it)."""
        with self.transaction() as cur:
            cur.execute("DELETE FROM samples WHERE queue = ?", [name])
            bulk_insert(
                cur,
                "INSERT INTO samples (queue, rollout_id, position, inclusion_prob, stratum, seed)"
                " SELECT queue, rollout_id, position, 1.0, 'filter', 0 FROM _bulk",
                ("queue", "rollout_id", "position"),
                [(name, rid, pos) for pos, rid in enumerate(ids)],
            )

    def topics(self) -> list[str]:
        return [
            str(r[0])
            for r in self.cur.execute(
                "SELECT DISTINCT topic FROM prompts WHERE topic IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]

    def run_ids(self) -> list[str]:
        return [str(r[0]) for r in self.cur.execute("SELECT id FROM runs ORDER BY created_at, id").fetchall()]

    # -- remembered per session ---------------------------------------------------------------------------
    def saved_filters(self, screen: str) -> Filters:
        row = self.cur.execute("SELECT value FROM ui_state WHERE key = ?", [f"filters:{screen}"]).fetchone()
        if row is None:
            return Filters()
        data = json.loads(row[0])
        return Filters(**{k: v for k, v in data.items() if k in Filters.__dataclass_fields__})

    def save_filters(self, screen: str, f: Filters) -> None:
        self.cur.execute(
            "INSERT OR REPLACE INTO ui_state (key, value) VALUES (?, ?)", [f"filters:{screen}", json.dumps(asdict(f))]
        )
