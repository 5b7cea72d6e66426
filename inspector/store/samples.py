"""Label queues: drawn samples with inclusion probabilities, the queue pages, and self-agreement rechecks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.store.connection import StoreBase, bulk_insert

# One labeler's current leak verdict per rollout (the latest event; NULL after an undo back to no label).
_CURRENT_LEAK = (
    "SELECT rollout_id, value FROM labels WHERE labeler = ? AND field = 'leak'"
    " QUALIFY row_number() OVER (PARTITION BY rollout_id ORDER BY id DESC) = 1"
)


class SamplesPart(StoreBase):
    """Samples drawn for labeling and the queues the Label screen walks."""

    # -- sampling ----------------------------------------------------------------------------------------
    def flagged_population(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT f.rollout_id, f.role, coalesce(p.topic, CASE WHEN f.related THEN 'ai' ELSE 'other' END) AS topic,"
            " f.related, f.model_id FROM rollout_flags f JOIN prompts p ON p.id = f.prompt_id WHERE f.flagged"
            " ORDER BY 1"
        )

    def unflagged_population(self) -> list[dict[str, Any]]:
        """Rollouts the leak-term detector scanned and no detector flagged: where its misses would be."""
        return self._dicts(
            "SELECT rollout_id, role, model_id FROM rollout_flags WHERE term_scanned AND NOT flagged ORDER BY 1"
        )

    def insert_samples(self, queue: str, rows: Sequence[tuple[int, int, float, str, int]]) -> None:
        with self.transaction() as cur:
            bulk_insert(
                cur,
                "INSERT INTO samples (queue, rollout_id, position, inclusion_prob, stratum, seed)"
                " SELECT queue, rollout_id, position, inclusion_prob, stratum, seed FROM _bulk",
                ("queue", "rollout_id", "position", "inclusion_prob", "stratum", "seed"),
                [[queue, *r] for r in rows],
            )

    # -- queues ------------------------------------------------------------------------------------
    def latest_queue(self, drawn_only: bool = False) -> str | None:
        """The newest queue; with drawn_only, the newest drawn sample (a recheck queue is no sample)."""
        row = self.cur.execute(
            # A filtered view ("filter:...") is never the latest queue: clearing the filters returns to the real one.
            "SELECT queue FROM samples WHERE queue NOT LIKE 'filter:%' AND NOT (? AND queue LIKE 'recheck-%')"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            [drawn_only],
        ).fetchone()
        return str(row[0]) if row else None

    def validation_items(self, queue: str, labeler: str) -> list[dict[str, Any]]:
        """Every item of a drawn queue: its stratum and inclusion probability, which detectors flag it now, and
        this labeler's current leak verdict (NULL when not labeled yet)."""
        return self._dicts(
            f"WITH cur AS ({_CURRENT_LEAK})"
            " SELECT s.rollout_id, s.stratum, s.inclusion_prob, f.model_id, f.n_term > 0 AS term,"
            " f.n_regurgitation > 0 AS regurgitation, f.n_quirk > 0 AS quirk, f.flagged AS any, cur.value AS leak"
            " FROM samples s JOIN rollout_flags f ON f.rollout_id = s.rollout_id"
            " LEFT JOIN cur ON cur.rollout_id = s.rollout_id WHERE s.queue = ? ORDER BY s.position",
            [labeler, queue],
        )

    def queue_has_unflagged(self, queue: str | None) -> bool:
        row = self.cur.execute(
            "SELECT count(*) FROM samples WHERE queue = ? AND stratum LIKE 'unflagged%'", [queue]
        ).fetchone()
        return bool(row and row[0])

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

    def queue_position(self, queue: str | None, rollout_id: int) -> int | None:
        """Where a rollout sits in a queue now (None if it is not in it): a queue of every flagged rollout grows
        while a run adds spans, and the Label screen keeps its labeler on the item they were reading."""
        if queue:
            row = self.cur.execute(
                "SELECT position FROM samples WHERE queue = ? AND rollout_id = ?", [queue, rollout_id]
            ).fetchone()
            return int(row[0]) if row else None
        row = self.cur.execute(
            "SELECT count(DISTINCT rollout_id) FILTER (WHERE rollout_id < ?), bool_or(rollout_id = ?) FROM spans",
            [rollout_id, rollout_id],
        ).fetchone()
        return int(row[0]) if row and row[1] else None

    def first_unlabeled(self, queue: str | None, labeler: str, after: int = -1) -> int | None:
        """The first position after `after` whose item this labeler has no current leak verdict for; None if every
        one is labeled. One query: a labeler who restarts lands on their next item at once."""
        items = (
            "SELECT rollout_id, position FROM samples WHERE queue = ?"
            if queue
            else "SELECT rollout_id, row_number() OVER (ORDER BY rollout_id) - 1 AS position"
            " FROM (SELECT DISTINCT rollout_id FROM spans)"
        )
        row = self.cur.execute(
            f"WITH q AS ({items}), done AS (SELECT rollout_id FROM ({_CURRENT_LEAK}) WHERE value IS NOT NULL)"
            " SELECT min(position) FROM q WHERE position > ? AND rollout_id NOT IN (SELECT rollout_id FROM done)",
            [queue, labeler, after] if queue else [labeler, after],
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def labeled_count(self, queue: str | None, labeler: str) -> int:
        """How many items of the queue this labeler has a current leak label for."""
        items = "SELECT rollout_id FROM samples WHERE queue = ?" if queue else "SELECT DISTINCT rollout_id FROM spans"
        row = self.cur.execute(
            f"WITH q AS ({items}) SELECT count(*) FROM ({_CURRENT_LEAK}) WHERE value IS NOT NULL"
            " AND rollout_id IN (SELECT rollout_id FROM q)",
            [queue, labeler] if queue else [labeler],
        ).fetchone()
        return int(row[0]) if row else 0

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
