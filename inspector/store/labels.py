"""Label events (append-only, undo is a new event) as a part of the session store."""

from __future__ import annotations

from typing import Any

from inspector.store.connection import StoreBase

# "topic" is a person's verdict on the rollout's prompt (about AI or technology, or not); it overrides the hint.
LABEL_FIELDS = {
    "leak": {"nonsequitur", "related", "none"},
    "quirk": {"yes", "no"},
    "topic": {"related", "unrelated"},
    "note": None,
}


class LabelsPart(StoreBase):
    """Label events of a session."""

    def add_label(
        self,
        rollout_id: int,
        labeler: str,
        field: str,
        value: str | None,
        blind: bool = False,
        key: str | None = None,
    ) -> int:
        """Append one label event; it is committed when this returns (DuckDB autocommits). An event with the
        same `key` is recorded once: a client resends a label whose reply was lost, and must not double it."""
        allowed = LABEL_FIELDS.get(field, ())
        if field not in LABEL_FIELDS or (allowed is not None and value not in allowed):
            raise ValueError(f"bad label {field}={value!r}")
        if key is not None and (done := self._keyed(key)) is not None:
            return int(done[0])
        row = self.cur.execute(
            "INSERT INTO labels (rollout_id, labeler, field, value, event, blind, event_key)"
            " VALUES (?,?,?,?,'set',?,?) RETURNING id",
            [rollout_id, labeler, field, value, blind, key],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _keyed(self, key: str) -> tuple[Any, ...] | None:
        return self.cur.execute("SELECT id, rollout_id, field, value FROM labels WHERE event_key = ?", [key]).fetchone()

    def undo_last(self, labeler: str, key: str | None = None) -> dict[str, Any] | None:
        """Undo this labeler's latest not-yet-undone 'set' by appending an event that restores the old value
        (once per `key`, as for add_label: undoing twice would undo an older label too)."""
        if key is not None and (done := self._keyed(key)) is not None:
            return {"rollout_id": int(done[1]), "field": str(done[2]), "value": done[3]}
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
            "INSERT INTO labels (rollout_id, labeler, field, value, event, undoes, event_key)"
            " VALUES (?,?,?,?,'undo',?,?)",
            [rollout_id, labeler, field, restored, eid, key],
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
