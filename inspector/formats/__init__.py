"""File formats at the edge of a session: JSONL reading with line numbers, prompt files, the panel's input files,
rollout files in and out (JSONL, CSV, Parquet) and Inspect AI logs."""
