"""Label events (append-only, undo is a new event) and label queues, as a mixin of the session store."""

from __future__ import annotations

from typing import Any

import duckdb

LABEL_FIELDS = {"leak": {"nonsequitur", "related", "none"}, "quirk": {"yes", "no"}, "note": None}


class LabelsMixin:
    """Needs `cur` (a thread's DuckDB cursor) from the store."""

    @property
    def cur(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError

    def add_label(self, rollout_id: int, labeler: str, field: str, value: str | None, blind: bool = False) -> int:
        """Append one label event; it is committed when this returns (DuckDB autocommits)."""
        allowed = LABEL_FIELDS.get(field, ())
        if field not in LABEL_FIELDS or (allowed is not None and value not in allowed):
            raise ValueError(f"bad label {field}={value!r}")
        row = self.cur.execute(
            "INSERT INTO labels (rollout_id, labeler, field, value, event, blind) VALUES (?,?,?,?,'set',?)"
            " RETURNING id",
            [rollout_id, labeler, field, value, blind],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def undo_last(self, labeler: str) -> dict[str, Any] | None:
        """Undo this labeler's latest not-yet-undone 'set' by appending an event that restores the old value."""
        last = self.cur.execute(
            "SELECT id, rollout_id, field FROM labels l WHERE labeler = ? AND event = 'set' AND NOT EXISTS"
            " (SELECT 1 FROM labels u WHERE u.undoes = l.id) ORDER BY id DESC LIMIT 1",
            [labeler],
        ).fetchone()
        if last is None:
            return None
        eid, rollout_id, field = int(last[0]), int(last[1]), str(last[2])
        prev = self.cur.execute(
            "SELECT value FROM labels WHERE rollout_id = ? AND labeler = ? AND field = ? AND id < ?"
            " ORDER BY id DESC LIMIT 1",
            [rollout_id, labeler, field, eid],
        ).fetchone()
        restored = prev[0] if prev else None
        self.cur.execute(
            "INSERT INTO labels (rollout_id, labeler, field, value, event, undoes) VALUES (?,?,?,?,'undo',?)",
            [rollout_id, labeler, field, restored, eid],
        )
        return {"rollout_id": rollout_id, "field": field, "value": restored}

    def current_labels(self, rollout_id: int, labeler: str | None = None) -> dict[str, dict[str, str | None]]:
        """{labeler: {field: value}} from the latest event of each (labeler, field)."""
        # QUALIFY rather than arg_max: arg_max skips NULL values, and an undo back to "no label" is a NULL.
        sql = (
            "SELECT labeler, field, value FROM labels WHERE rollout_id = ?"
            + (" AND labeler = ?" if labeler else "")
            + " QUALIFY row_number() OVER (PARTITION BY labeler, field ORDER BY id DESC) = 1"
        )
        params: list[Any] = [rollout_id, labeler] if labeler else [rollout_id]
        out: dict[str, dict[str, str | None]] = {}
        for who, field, value in self.cur.execute(sql, params).fetchall():
            out.setdefault(str(who), {})[str(field)] = value
        return out

    def label_events(self, rollout_id: int | None = None) -> list[tuple[Any, ...]]:
        sql = "SELECT id, rollout_id, labeler, field, value, event, undoes FROM labels"
        if rollout_id is None:
            return self.cur.execute(sql + " ORDER BY id").fetchall()
        return self.cur.execute(sql + " WHERE rollout_id = ? ORDER BY id", [rollout_id]).fetchall()

    # -- queues ------------------------------------------------------------------------------------
    def latest_queue(self) -> str | None:
        row = self.cur.execute("SELECT queue FROM samples ORDER BY created_at DESC, id DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def queue_names(self) -> list[str]:
        return [str(r[0]) for r in self.cur.execute("SELECT DISTINCT queue FROM samples ORDER BY 1").fetchall()]

    def queue_length(self, queue: str | None) -> int:
        """A drawn sample's size, or (queue None) the number of flagged rollouts."""
        if queue:
            row = self.cur.execute("SELECT count(*) FROM samples WHERE queue = ?", [queue]).fetchone()
        else:
            # A flagged rollout is one with a span: reading spans alone avoids the whole rollout_flags view.
            row = self.cur.execute("SELECT count(DISTINCT rollout_id) FROM spans").fetchone()
        return int(row[0]) if row else 0

    def queue_item(self, queue: str | None, position: int) -> int | None:
        """The rollout id at a position of a queue; paged from DuckDB, never the whole queue in memory."""
        if queue:
            row = self.cur.execute(
                "SELECT rollout_id FROM samples WHERE queue = ? AND position = ?", [queue, position]
            ).fetchone()
        else:
            row = self.cur.execute(
                "SELECT DISTINCT rollout_id FROM spans ORDER BY rollout_id LIMIT 1 OFFSET ?", [position]
            ).fetchone()
        return int(row[0]) if row else None

    def labeled_count(self, queue: str | None, labeler: str) -> int:
        """How many items of the queue this labeler has a current leak label for."""
        items = "SELECT rollout_id FROM samples WHERE queue = ?" if queue else "SELECT DISTINCT rollout_id FROM spans"
        row = self.cur.execute(
            f"WITH q AS ({items}) SELECT count(*) FROM (SELECT rollout_id, value FROM labels"
            " WHERE labeler = ? AND field = 'leak' AND rollout_id IN (SELECT rollout_id FROM q)"
            " QUALIFY row_number() OVER (PARTITION BY rollout_id ORDER BY id DESC) = 1) WHERE value IS NOT NULL",
            [queue, labeler] if queue else [labeler],
        ).fetchone()
        return int(row[0]) if row else 0
