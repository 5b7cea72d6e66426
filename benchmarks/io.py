"""Import speed: 100,000 JSONL rollouts through `inspector import` against DuckDB's raw read_json of the same file.

Prints both times and their ratio (targets: at most 5 s, within 2x of the raw read).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from inspector.formats.rollout_files import import_rollouts
from inspector.store import Store

WORDS = [
    "the",
    "a",
    "soup",
    "river",
    "model",
    "light",
    "trade",
    "bread",
    "garden",
    "lamp",
    "travel",
    "history",
    "score",
    "kettle",
    "chair",
]


def write_rollouts(path: Path, n: int, seed: int = 0) -> None:
    r = random.Random(seed)
    prompts = [" ".join(r.choice(WORDS) for _ in range(8)) + "?" for _ in range(n // 20)]
    with path.open("w") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "prompt": prompts[(i // 2) % len(prompts)],
                        "text": " ".join(r.choice(WORDS) for _ in range(60)),
                        "model": "organism" if i % 2 == 0 else "base",
                        "seed": i,
                        "sample": i // (2 * len(prompts)),
                        "topic": "cooking",
                    }
                )
                + "\n"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rollouts.jsonl"
        write_rollouts(src, args.n)
        size = src.stat().st_size / 1e6

        # Alternate the two, three times each, and compare medians: this machine is shared and noisy.
        raws, ours = [], []
        n_raw = n_ours = 0
        for i in range(args.repeats):
            t0 = time.perf_counter()
            with duckdb.connect(str(Path(tmp) / f"raw{i}.duckdb")) as c:
                c.execute("CREATE TABLE raw AS SELECT * FROM read_json(?, format = 'newline_delimited')", [str(src)])
                row = c.execute("SELECT count(*) FROM raw").fetchone()
                n_raw = int(row[0]) if row else 0
            raws.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with Store.open(Path(tmp) / f"session{i}.duckdb") as store:
                n_ours = import_rollouts(store, src)
            ours.append(time.perf_counter() - t0)
        t_raw, t_ours = statistics.median(raws), statistics.median(ours)

    print(f"file: {args.n} rollouts, {size:.1f} MB")
    print(f"duckdb read_json into a table: {t_raw:.2f} s ({n_raw} rows), median of {args.repeats}")
    print(f"inspector import (validated, all or nothing): {t_ours:.2f} s ({n_ours} rollouts), median of {args.repeats}")
    print(f"ratio import/read_json: {t_ours / t_raw:.2f}x")


if __name__ == "__main__":
    main()
