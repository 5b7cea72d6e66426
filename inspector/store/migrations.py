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
                topic VARCHAR, topic_source VARCHAR)""",
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
                created_at TIMESTAMP DEFAULT current_timestamp)""",
            "CREATE INDEX labels_rollout ON labels (rollout_id)",
            "CREATE SEQUENCE sample_ids START 1",
            """CREATE TABLE samples (
                id BIGINT PRIMARY KEY DEFAULT nextval('sample_ids'), queue VARCHAR NOT NULL,
                rollout_id BIGINT NOT NULL, position INTEGER NOT NULL, inclusion_prob DOUBLE NOT NULL,
                stratum VARCHAR, seed BIGINT, created_at TIMESTAMP DEFAULT current_timestamp,
                UNIQUE (queue, rollout_id))""",
            "CREATE SEQUENCE snapshot_ids START 1",
            """CREATE TABLE metric_snapshots (
                id BIGINT PRIMARY KEY DEFAULT nextval('snapshot_ids'), kind VARCHAR NOT NULL,
                inputs JSON, metrics JSON, created_at TIMESTAMP DEFAULT current_timestamp)""",
        ],
    ),
]
