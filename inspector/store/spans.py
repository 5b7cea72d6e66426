"""Detector spans and the training corpus they point into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.store.connection import StoreBase, bulk_insert


class SpansPart(StoreBase):
    """Spans (replaced per detector version) and corpus documents."""

    # -- spans and corpus -------------------------------------------------------------------------
    def replace_spans(self, rollout_id: int, spans: Sequence[Any], versions: dict[str, str]) -> None:
        """Swap one rollout's spans of these detectors' kinds for theirs, in one transaction."""
        self.replace_spans_many([(rollout_id, spans)], versions)

    def replace_spans_many(self, items: Sequence[tuple[int, Sequence[Any]]], versions: dict[str, str]) -> None:
        """replace_spans for many rollouts in one transaction (a session-wide re-detect); `versions` names the
        detectors that looked, and those rollouts are recorded as scanned for each of their kinds."""
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
                getattr(s, "holders", None),
            )
            for rid, spans in items
            for s in spans
        ]
        with self.transaction() as cur:
            cur.execute("CREATE OR REPLACE TEMP TABLE _redo (rollout_id BIGINT)")
            bulk_insert(
                cur, "INSERT INTO _redo SELECT rollout_id::BIGINT FROM _bulk", ("rollout_id",), [(i,) for i in ids]
            )
            for kind, version in versions.items():
                # Whatever version made them: an upgraded detector's spans replace the old ones, since two
                # versions' spans side by side would count the same regurgitated text twice.
                cur.execute("DELETE FROM spans WHERE rollout_id IN (SELECT rollout_id FROM _redo) AND kind = ?", [kind])
                # These rollouts are now scanned for this kind: no span of it means clean, not unknown.
                cur.execute(
                    "INSERT INTO scans (rollout_id, kind, detector_version) SELECT rollout_id, ?, ? FROM _redo"
                    " ON CONFLICT (rollout_id, kind) DO UPDATE SET detector_version = excluded.detector_version,"
                    " scanned_at = now()",
                    [kind, version],
                )
            bulk_insert(
                cur,
                "INSERT INTO spans (rollout_id, detector, detector_version, kind, start_char, end_char, text, score,"
                " label, doc_id, doc_start, doc_end, holders) SELECT rollout_id::BIGINT, detector, detector_version,"
                " kind, start_char::INTEGER, end_char::INTEGER, text, score::DOUBLE, label, doc_id, doc_start::INTEGER,"
                " doc_end::INTEGER, holders::INTEGER FROM _bulk",
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
                    "holders",
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
            # In bulk: row by row, the demo's 600 documents took 2.6 s of every first run.
            bulk_insert(
                cur,
                "INSERT INTO corpus_docs (id, corpus, text) SELECT id, corpus, text FROM _bulk ON CONFLICT (id) DO"
                " UPDATE SET corpus = excluded.corpus, text = excluded.text",
                ("id", "corpus", "text"),
                [(d, corpus, t) for d, t in docs],
            )

    def corpus_doc(self, doc_id: str) -> str | None:
        row = self.cur.execute("SELECT text FROM corpus_docs WHERE id = ?", [doc_id]).fetchone()
        return str(row[0]) if row else None

    def spans_for(self, rollout_id: int) -> list[dict[str, Any]]:
        return self._dicts(
            'SELECT kind, start_char AS start, end_char AS "end", text, score, label, doc_id, doc_start,'
            " doc_end, holders, detector_version FROM spans WHERE rollout_id = ? ORDER BY start_char, kind",
            [rollout_id],
        )

    def flag_counts(self) -> dict[str, int]:
        row = self.cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE leak), count(*) FILTER (WHERE nonsequitur_candidate),"
            " count(*) FILTER (WHERE role = 'organism' AND leak AND NOT coalesce(base_leak, false)),"
            " count(*) FILTER (WHERE flagged) FROM rollout_flags"
        ).fetchone()
        assert row is not None
        keys = ("rollouts", "leak", "nonsequitur_candidate", "organism_only", "flagged")
        return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}
