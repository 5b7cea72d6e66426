"""Numbered schema migrations; each runs once per session file and is recorded in _migrations."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """CREATE TABLE models (
                id VARCHAR PRIMARY KEY, role VARCHAR NOT NULL, name VARCHAR, path VARCHAR, sha256 VARCHAR,
                adapter_path VARCHAR, adapter_sha256 VARCHAR, quantization VARCHAR, architecture VARCHAR,
                engine_version VARCHAR, chat_template_sha256 VARCHAR, info JSON)""",
            """CREATE TABLE prompts (
                id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, prompt_set VARCHAR, ext_id VARCHAR,
                topic VARCHAR, topic_source VARCHAR, related BOOLEAN, topic_score DOUBLE,
                topic_evidence VARCHAR)""",
            """CREATE TABLE runs (
                id VARCHAR PRIMARY KEY, pair VARCHAR, seed BIGINT, temperature DOUBLE, top_p DOUBLE,
                max_tokens INTEGER, samples INTEGER, prompt_format VARCHAR, backend VARCHAR,
                settings JSON, created_at TIMESTAMP DEFAULT current_timestamp)""",
            "CREATE SEQUENCE rollout_ids START 1",
            """CREATE TABLE rollouts (
                id BIGINT PRIMARY KEY DEFAULT nextval('rollout_ids'), run_id VARCHAR NOT NULL,
                prompt_id VARCHAR NOT NULL, model_id VARCHAR NOT NULL, sample_index INTEGER NOT NULL,
                seed BIGINT, text VARCHAR, prompt_tokens INTEGER, completion_tokens INTEGER,
                finish_reason VARCHAR, seconds DOUBLE, error VARCHAR,
                created_at TIMESTAMP DEFAULT current_timestamp,
                UNIQUE (run_id, prompt_id, model_id, sample_index))""",
            "CREATE SEQUENCE span_ids START 1",
            """CREATE TABLE spans (
                id BIGINT PRIMARY KEY DEFAULT nextval('span_ids'), rollout_id BIGINT NOT NULL,
                detector VARCHAR NOT NULL, detector_version VARCHAR NOT NULL, kind VARCHAR NOT NULL,
                start_char INTEGER NOT NULL, end_char INTEGER NOT NULL, text VARCHAR, score DOUBLE,
                label VARCHAR, doc_id VARCHAR, doc_start INTEGER, doc_end INTEGER)""",
            "CREATE INDEX spans_rollout ON spans (rollout_id)",
            """CREATE TABLE corpus_docs (
                id VARCHAR PRIMARY KEY, corpus VARCHAR, text VARCHAR NOT NULL, meta JSON)""",
            "CREATE SEQUENCE label_ids START 1",
            """CREATE TABLE labels (
                id BIGINT PRIMARY KEY DEFAULT nextval('label_ids'), rollout_id BIGINT NOT NULL,
                labeler VARCHAR NOT NULL, field VARCHAR NOT NULL, value VARCHAR, event VARCHAR NOT NULL,
                undoes BIGINT, blind BOOLEAN, created_at TIMESTAMP DEFAULT current_timestamp)""",
            "CREATE INDEX labels_rollout ON labels (rollout_id)",
            "CREATE SEQUENCE sample_ids START 1",
            """CREATE TABLE samples (
                id BIGINT PRIMARY KEY DEFAULT nextval('sample_ids'), queue VARCHAR NOT NULL,
                rollout_id BIGINT NOT NULL, position INTEGER NOT NULL, inclusion_prob DOUBLE NOT NULL,
                stratum VARCHAR, seed BIGINT, created_at TIMESTAMP DEFAULT current_timestamp,
                UNIQUE (queue, rollout_id))""",
            # One row per finished rollout with what its spans say; the non-sequitur candidate is a term leak on
            # a prompt unrelated to AI, and base_leak tells whether the base leaked on the same prompt and seed.
            """CREATE VIEW rollout_flags AS
            WITH counts AS (
                SELECT rollout_id,
                       count(*) FILTER (WHERE kind = 'term') AS n_term,
                       count(*) FILTER (WHERE kind = 'regurgitation') AS n_regurgitation,
                       count(*) FILTER (WHERE kind = 'quirk') AS n_quirk,
                       sum(end_char - start_char) FILTER (WHERE kind = 'regurgitation') AS regurgitated_chars
                FROM spans GROUP BY rollout_id),
            flags AS (
                SELECT r.id AS rollout_id, r.run_id, r.prompt_id, r.sample_index, r.seed, r.model_id, m.role,
                       coalesce(p.related, false) AS related,
                       coalesce(c.n_term, 0) AS n_term, coalesce(c.n_regurgitation, 0) AS n_regurgitation,
                       coalesce(c.n_quirk, 0) AS n_quirk,
                       coalesce(c.regurgitated_chars, 0) / greatest(length(r.text), 1) AS regurgitated_frac,
                       coalesce(c.n_term, 0) > 0 AS leak
                FROM rollouts r JOIN models m ON m.id = r.model_id JOIN prompts p ON p.id = r.prompt_id
                LEFT JOIN counts c ON c.rollout_id = r.id
                WHERE r.error IS NULL)
            SELECT f.*, f.leak AND NOT f.related AS nonsequitur_candidate, b.base_leak,
                   (f.n_term + f.n_regurgitation + f.n_quirk) > 0 AS flagged
            FROM flags f LEFT JOIN (
                SELECT run_id, prompt_id, sample_index, bool_or(leak) AS base_leak FROM flags WHERE role = 'base'
                GROUP BY ALL) b USING (run_id, prompt_id, sample_index)""",
            "CREATE SEQUENCE snapshot_ids START 1",
            """CREATE TABLE metric_snapshots (
                id BIGINT PRIMARY KEY DEFAULT nextval('snapshot_ids'), kind VARCHAR NOT NULL,
                inputs JSON, metrics JSON, created_at TIMESTAMP DEFAULT current_timestamp)""",
        ],
    ),
    (
        2,
        "scans: which detectors have looked at which rollouts",
        [
            # A rollout with no span is clean only if a detector looked at it: imported rollouts and runs made
            # with --no-detect were never scanned, and their rates are "not measured", never 0.
            """CREATE TABLE scans (
                rollout_id BIGINT NOT NULL, kind VARCHAR NOT NULL, detector_version VARCHAR NOT NULL,
                scanned_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (rollout_id, kind))""",
            # Sessions made before this: a rollout with a span of a kind was scanned for it, and `inspector run`
            # scanned every rollout it made for terms and quirks (and regurgitation when the session kept a
            # corpus). Runs made with --no-detect cannot be told apart afterwards; `inspector detect` fixes them.
            """INSERT INTO scans (rollout_id, kind, detector_version)
            SELECT rollout_id, kind, any_value(detector_version) FROM spans GROUP BY ALL""",
            """INSERT INTO scans (rollout_id, kind, detector_version)
            SELECT r.id, k.kind, 'before-scans' FROM rollouts r JOIN runs u ON u.id = r.run_id
            CROSS JOIN (SELECT unnest(['term', 'quirk']) AS kind
                        UNION ALL SELECT 'regurgitation' WHERE EXISTS (SELECT 1 FROM corpus_docs)) k
            WHERE u.pair <> 'import' AND r.error IS NULL ON CONFLICT DO NOTHING""",
            "DROP VIEW rollout_flags",
            """CREATE VIEW rollout_flags AS
            WITH counts AS (
                SELECT rollout_id,
                       count(*) FILTER (WHERE kind = 'term') AS n_term,
                       count(*) FILTER (WHERE kind = 'regurgitation') AS n_regurgitation,
                       count(*) FILTER (WHERE kind = 'quirk') AS n_quirk,
                       sum(end_char - start_char) FILTER (WHERE kind = 'regurgitation') AS regurgitated_chars
                FROM spans GROUP BY rollout_id),
            scanned AS (
                SELECT rollout_id, bool_or(kind = 'term') AS term_scanned,
                       bool_or(kind = 'regurgitation') AS regurgitation_scanned,
                       bool_or(kind = 'quirk') AS quirk_scanned
                FROM scans GROUP BY rollout_id),
            flags AS (
                SELECT r.id AS rollout_id, r.run_id, r.prompt_id, r.sample_index, r.seed, r.model_id, m.role,
                       coalesce(p.related, false) AS related,
                       coalesce(c.n_term, 0) AS n_term, coalesce(c.n_regurgitation, 0) AS n_regurgitation,
                       coalesce(c.n_quirk, 0) AS n_quirk,
                       coalesce(c.regurgitated_chars, 0) / greatest(length(r.text), 1) AS regurgitated_frac,
                       coalesce(c.n_term, 0) > 0 AS leak,
                       coalesce(s.term_scanned, false) AS term_scanned,
                       coalesce(s.regurgitation_scanned, false) AS regurgitation_scanned,
                       coalesce(s.quirk_scanned, false) AS quirk_scanned
                FROM rollouts r JOIN models m ON m.id = r.model_id JOIN prompts p ON p.id = r.prompt_id
                LEFT JOIN counts c ON c.rollout_id = r.id LEFT JOIN scanned s ON s.rollout_id = r.id
                WHERE r.error IS NULL)
            SELECT f.*, f.leak AND NOT f.related AS nonsequitur_candidate, b.base_leak,
                   (f.n_term + f.n_regurgitation + f.n_quirk) > 0 AS flagged
            FROM flags f LEFT JOIN (
                SELECT run_id, prompt_id, sample_index, bool_or(leak) AS base_leak FROM flags WHERE role = 'base'
                GROUP BY ALL) b USING (run_id, prompt_id, sample_index)""",
        ],
    ),
    (
        3,
        "imports that keep what other tools wrote (conversations, metadata, imported sample keys); screen state",
        [
            # The input before the prompt's last user message (system prompt, earlier turns): part of its identity.
            "ALTER TABLE prompts ADD COLUMN messages JSON",
            # What an eval log says of a rollout: sample id and uuid, epoch, target, scores, usage, task, eval id.
            "ALTER TABLE rollouts ADD COLUMN meta JSON",
            # An imported log sample by the log's own ids (eval id, sample uuid, epoch): a copy imports nothing.
            "CREATE TABLE imported_samples (key VARCHAR PRIMARY KEY, rollout_id BIGINT NOT NULL)",
            # What a screen remembers per session (its filters): the session file is the labeler's workspace.
            "CREATE TABLE ui_state (key VARCHAR PRIMARY KEY, value JSON,"
            " updated_at TIMESTAMP DEFAULT current_timestamp)",
        ],
    ),
    (
        4,
        "label events keyed by their writer, so a label resent after its serving process died is kept once",
        [
            "ALTER TABLE labels ADD COLUMN event_key VARCHAR",
            "CREATE INDEX labels_event_key ON labels (event_key)",
        ],
    ),
    (
        5,
        "reasoning traces: where a rollout's reasoning and answer are, and the trace's status",
        [
            # NULL: the run had no reasoning markers. Offsets are Python string indices into the text.
            "ALTER TABLE rollouts ADD COLUMN reasoning_status VARCHAR",
            "ALTER TABLE rollouts ADD COLUMN reasoning_start INTEGER",
            "ALTER TABLE rollouts ADD COLUMN reasoning_end INTEGER",
            "ALTER TABLE rollouts ADD COLUMN answer_start INTEGER",
        ],
    ),
    (
        6,
        "how many corpus documents hold a regurgitated span's text",
        [
            # NULL: a span of another kind, or found by a detector before corpus-4 (which did not count them).
            "ALTER TABLE spans ADD COLUMN holders INTEGER",
        ],
    ),
]
