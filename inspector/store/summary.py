"""What the report and the Summary screen read: per-model counts, pairs, current labels, metric snapshots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from inspector.store.connection import StoreBase

# A person's verdict on a prompt's topic (the label field "topic", given on any of its rollouts, latest wins)
# overrides the hint's: rates "on unrelated prompts" follow the human where there is one.
_HUMAN_TOPIC = (
    "human AS (SELECT r.prompt_id, l.value AS verdict FROM labels l JOIN rollouts r ON r.id = l.rollout_id"
    " WHERE l.field = 'topic' QUALIFY row_number() OVER (PARTITION BY r.prompt_id ORDER BY l.id DESC) = 1)"
)

# A prompt's condition: the system prompt its conversation starts with (prompt files and imports put it first).
_SYSTEM = (
    "CASE WHEN json_extract_string(p.messages, '$[0].role') = 'system'"
    " THEN json_extract_string(p.messages, '$[0].content') END"
)
# What a paired comparison can be about: the scan that must have looked, and the flag on each side.
# Fixed SQL fragments picked by name, never user text.
_UNIQUE_COPY = (
    "EXISTS (SELECT 1 FROM spans x WHERE x.rollout_id = {r}.rollout_id AND x.kind = 'regurgitation' AND x.holders = 1)"
)
_PAIRED = {
    "leak": ("term_scanned", "o.leak", "b.leak"),
    "regurgitation": ("regurgitation_scanned", "o.n_regurgitation > 0", "b.n_regurgitation > 0"),
    # A copy of text only one training document holds: boilerplate many documents share does not count.
    "unique_regurgitation": ("regurgitation_scanned", _UNIQUE_COPY.format(r="o"), _UNIQUE_COPY.format(r="b")),
}
# How many documents hold a regurgitated span's text, in the report's bands (NULL: counted by no detector).
_HOLDER_BAND = (
    "CASE WHEN s.holders IS NULL THEN 'unknown' WHEN s.holders = 1 THEN '1' WHEN s.holders < 10 THEN '2-9'"
    " WHEN s.holders < 100 THEN '10-99' ELSE '100+' END"
)


class SummaryPart(StoreBase):
    """Metric inputs and saved metric snapshots."""

    # -- metrics inputs ---------------------------------------------------------------------------------
    def model_counts(self, by_system: bool = False) -> list[dict[str, Any]]:
        """Per model (and per system prompt, the conditions, when `by_system`): finished rollouts, and what the
        detectors found among the rollouts they looked at."""
        system = ", " + _SYSTEM + " AS system_prompt" if by_system else ""
        return self._dicts(
            f"WITH {_HUMAN_TOPIC}, flags AS (SELECT f.* REPLACE (coalesce(h.verdict = 'related', f.related) AS related)"
            " FROM rollout_flags f LEFT JOIN human h USING (prompt_id))"
            f" SELECT f.model_id, m.role, m.name{system}, count(*) AS n_rollouts,"
            " count(*) FILTER (WHERE term_scanned) AS n_term_scanned,"
            " count(*) FILTER (WHERE term_scanned AND leak) AS n_leaks,"
            " count(*) FILTER (WHERE term_scanned AND NOT f.related) AS n_unrelated,"
            " count(*) FILTER (WHERE term_scanned AND leak AND NOT f.related) AS n_unrelated_leaks,"
            " count(*) FILTER (WHERE regurgitation_scanned) AS n_regurgitation_scanned,"
            " count(*) FILTER (WHERE regurgitation_scanned AND n_regurgitation > 0) AS n_regurgitated,"
            # Mostly corpus text: more than half of the completion's characters are regurgitated spans.
            " count(*) FILTER (WHERE regurgitation_scanned AND regurgitated_frac > 0.5) AS n_mostly_corpus,"
            " avg(regurgitated_frac) FILTER (WHERE regurgitation_scanned) AS regurgitated_char_fraction"
            " FROM flags f JOIN models m ON m.id = f.model_id JOIN prompts p ON p.id = f.prompt_id"
            " GROUP BY ALL ORDER BY m.role DESC, m.name" + (", system_prompt NULLS FIRST" if by_system else "")
        )

    def control_counts(self) -> dict[str, dict[str, int]]:
        """Per model id: finished rollouts the control-token detector looked at, those with any control token,
        and the tokens found."""
        return self.kind_counts("control")

    def kind_counts(self, kind: str, broken_traces: bool = False) -> dict[str, dict[str, int]]:
        """Per model id: finished rollouts the detector of `kind` looked at, those with a span of it (with
        `broken_traces`, also those whose reasoning trace never closed or left no answer), those with a span that
        stopped at the token limit, and the spans found."""
        rows = self.cur.execute(
            "SELECT f.model_id, count(*) FILTER (WHERE s.rollout_id IS NOT NULL),"
            " count(*) FILTER (WHERE s.rollout_id IS NOT NULL AND (c.n > 0"
            "  OR (? AND r.reasoning_status IN ('unclosed', 'empty_answer')))),"
            " count(*) FILTER (WHERE s.rollout_id IS NOT NULL AND c.n > 0 AND r.finish_reason = 'length'),"
            " coalesce(sum(c.n), 0)"
            " FROM rollout_flags f JOIN rollouts r ON r.id = f.rollout_id"
            " LEFT JOIN (SELECT DISTINCT rollout_id FROM scans WHERE kind = ?) s ON s.rollout_id = f.rollout_id"
            " LEFT JOIN (SELECT rollout_id, count(*) AS n FROM spans WHERE kind = ? GROUP BY 1) c"
            " ON c.rollout_id = f.rollout_id GROUP BY 1",
            [broken_traces, kind, kind],
        ).fetchall()
        return {
            str(m): {"scanned": int(a), "with": int(b), "at_limit": int(lim), "tokens": int(t)}
            for m, a, b, lim, t in rows
        }

    def degenerate_pairs(self) -> list[tuple[str, bool, bool]]:
        """(prompt, organism degenerate, base degenerate) for every organism/base pair on the same run, prompt and
        sample that the degenerate-text detector scanned on both sides; a broken reasoning trace counts."""
        flagged = (
            "(EXISTS (SELECT 1 FROM spans x WHERE x.rollout_id = {r}.id AND x.kind = 'degenerate')"
            " OR {r}.reasoning_status IN ('unclosed', 'empty_answer'))"
        )
        scanned = "EXISTS (SELECT 1 FROM scans x WHERE x.rollout_id = {r}.id AND x.kind = 'degenerate')"
        rows = self.cur.execute(
            f"SELECT o.prompt_id, {flagged.format(r='ro')}, {flagged.format(r='rb')}"
            " FROM rollout_flags o JOIN rollout_flags b"
            " ON o.run_id = b.run_id AND o.prompt_id = b.prompt_id AND o.sample_index = b.sample_index"
            " JOIN rollouts ro ON ro.id = o.rollout_id JOIN rollouts rb ON rb.id = b.rollout_id"
            f" WHERE o.role = 'organism' AND b.role = 'base' AND {scanned.format(r='ro')}"
            f" AND {scanned.format(r='rb')} ORDER BY o.rollout_id"
        ).fetchall()
        return [(str(p), bool(o), bool(b)) for p, o, b in rows]

    def trace_rows(self) -> dict[str, list[tuple[str, int, list[int]]]]:
        """Per model id, its term-scanned rollouts made with reasoning markers: (trace status, where the answer
        starts, where its leak-term spans start)."""
        rows = self.cur.execute(
            "SELECT r.model_id, r.reasoning_status, r.answer_start,"
            " list(s.start_char ORDER BY s.start_char) FILTER (WHERE s.kind = 'term')"
            " FROM rollout_flags f JOIN rollouts r ON r.id = f.rollout_id LEFT JOIN spans s ON s.rollout_id = r.id"
            " WHERE r.reasoning_status IS NOT NULL AND f.term_scanned GROUP BY r.id, r.model_id, r.reasoning_status,"
            " r.answer_start ORDER BY r.id"
        ).fetchall()
        out: dict[str, list[tuple[str, int, list[int]]]] = {}
        for model, status, answer_start, starts in rows:
            out.setdefault(str(model), []).append((str(status), int(answer_start), [int(x) for x in starts or []]))
        return out

    def run_counts(self, run_id: str, probe_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """A run's finished rollouts in two groups, "probes" (the given prompt ids) and "prompts" (the rest): how
        many, and what each detector found among the rollouts it looked at."""
        rows = self._dicts(
            "SELECT list_contains(?, prompt_id) AS probe, count(*) AS n,"
            " count(*) FILTER (WHERE term_scanned) AS n_term_scanned,"
            " count(*) FILTER (WHERE term_scanned AND leak) AS n_leaks,"
            " count(*) FILTER (WHERE regurgitation_scanned) AS n_regurgitation_scanned,"
            " count(*) FILTER (WHERE regurgitation_scanned AND n_regurgitation > 0) AS n_regurgitated,"
            " count(*) FILTER (WHERE quirk_scanned) AS n_quirk_scanned,"
            " count(*) FILTER (WHERE quirk_scanned AND n_quirk > 0) AS n_quirk"
            " FROM rollout_flags WHERE run_id = ? GROUP BY ALL",
            [list(probe_ids), run_id],
        )
        out: dict[str, dict[str, int]] = {"probes": {}, "prompts": {}}
        for r in rows:
            out["probes" if r.pop("probe") else "prompts"] = {k: int(v) for k, v in r.items()}
        return out

    def error_counts(self) -> dict[str, int]:
        """Failed rollouts per model id (an errored sample, a model_length stop): kept, but out of every rate."""
        rows = self.cur.execute("SELECT model_id, count(*) FROM rollouts WHERE error IS NOT NULL GROUP BY 1").fetchall()
        return {str(m): int(n) for m, n in rows}

    def topic_verdicts(self) -> list[tuple[bool, bool]]:
        """(the hint's verdict, the person's verdict) for every prompt someone judged: is it about AI or tech?"""
        rows = self.cur.execute(
            f"WITH {_HUMAN_TOPIC} SELECT coalesce(p.related, false), h.verdict = 'related' FROM human h"
            " JOIN prompts p ON p.id = h.prompt_id WHERE h.verdict IS NOT NULL ORDER BY p.id"
        ).fetchall()
        return [(bool(a), bool(b)) for a, b in rows]

    def leak_pairs(self, what: str = "leak", system: str | None = None, by_system: bool = False) -> list[Any]:
        """(prompt, organism flagged, base flagged) for every organism/base pair on the same run, prompt and sample
        that the detector of `what` (a key of _PAIRED) scanned on both sides; with `by_system`, only the
        pairs under that system prompt (None: those under none)."""
        scanned, org, base = _PAIRED[what]
        where = ""
        params: list[Any] = []
        if by_system:
            where = f" AND {_SYSTEM} IS NOT DISTINCT FROM ?"
            params.append(system)
        rows = self.cur.execute(
            f"SELECT o.prompt_id, {org}, {base} FROM rollout_flags o JOIN rollout_flags b"
            " ON o.run_id = b.run_id AND o.prompt_id = b.prompt_id AND o.sample_index = b.sample_index"
            " JOIN prompts p ON p.id = o.prompt_id"
            f" WHERE o.role = 'organism' AND b.role = 'base' AND o.{scanned} AND b.{scanned}{where}"
            " ORDER BY o.rollout_id",
            params,
        ).fetchall()
        return [(str(p), bool(o), bool(b)) for p, o, b in rows]

    def regurgitation_sources(self) -> dict[str, dict[str, Any]]:
        """Per model id: rollouts scanned for regurgitation, those with a copy of text one document holds
        (`unique`), those whose regurgitated spans are all text two or more documents hold (`shared_only`), those
        whose spans' holders were never counted (`unknown`), and the spans by how many documents hold them."""
        rows = self.cur.execute(
            "WITH s AS (SELECT rollout_id, min(holders) AS fewest, bool_or(holders IS NULL) AS uncounted"
            " FROM spans WHERE kind = 'regurgitation' GROUP BY 1)"
            " SELECT f.model_id, count(*), count(*) FILTER (WHERE s.fewest = 1),"
            " count(*) FILTER (WHERE s.fewest > 1 AND NOT s.uncounted),"
            " count(*) FILTER (WHERE s.uncounted AND coalesce(s.fewest, 0) <> 1)"
            " FROM rollout_flags f LEFT JOIN s ON s.rollout_id = f.rollout_id WHERE f.regurgitation_scanned"
            " GROUP BY 1"
        ).fetchall()
        out: dict[str, dict[str, Any]] = {
            str(m): {"scanned": int(n), "unique": int(u), "shared_only": int(sh), "unknown": int(k), "spans": {}}
            for m, n, u, sh, k in rows
        }
        for m, band, n in self.cur.execute(
            f"SELECT r.model_id, {_HOLDER_BAND}, count(*) FROM spans s JOIN rollouts r ON r.id = s.rollout_id"
            " WHERE s.kind = 'regurgitation' GROUP BY ALL"
        ).fetchall():
            if str(m) in out:
                out[str(m)]["spans"][str(band)] = int(n)
        return out

    def shared_texts(self, limit: int = 10) -> list[dict[str, Any]]:
        """The regurgitated texts that several training documents hold, most written first: how many documents
        hold each, and how many organism and base rollouts wrote it (a sentence the base writes as often is
        corpus boilerplate, not something fine-tuning burnt in)."""
        return self._dicts(
            "SELECT lower(s.text) AS text, max(s.holders) AS holders,"
            " count(DISTINCT s.rollout_id) FILTER (WHERE m.role = 'organism') AS organism,"
            " count(DISTINCT s.rollout_id) FILTER (WHERE m.role = 'base') AS base"
            " FROM spans s JOIN rollouts r ON r.id = s.rollout_id JOIN models m ON m.id = r.model_id"
            " WHERE s.kind = 'regurgitation' AND s.holders > 1 GROUP BY 1"
            " ORDER BY organism + base DESC, holders DESC, text LIMIT ?",
            [limit],
        )

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
            " LEFT JOIN (SELECT rollout_id, any_value(inclusion_prob) AS inclusion_prob FROM samples"
            " WHERE queue = coalesce(?, queue) AND queue NOT LIKE 'filter:%' AND queue NOT LIKE 'recheck-%'"
            " GROUP BY rollout_id) s ON s.rollout_id = lab.rollout_id"
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

    def latest_snapshot(self, kind: str) -> dict[str, Any] | None:
        """The newest metric snapshot of a kind: {"id", "inputs", "metrics", "created_at"}."""
        rows = self.snapshots(kind, 1)
        return rows[0] if rows else None

    def snapshots(self, kind: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest `limit` metric snapshots of a kind, newest first."""
        rows = self._dicts(
            "SELECT id, inputs, metrics, created_at FROM metric_snapshots WHERE kind = ? ORDER BY id DESC LIMIT ?",
            [kind, limit],
        )
        return [{**r, "inputs": json.loads(r["inputs"]), "metrics": json.loads(r["metrics"])} for r in rows]
