"""One session, many hands: a real `inspector run` generating while a labeler process labels the same session.

Prints the run's tokens/s alone (twice: before and after, their mean is the baseline) and with a labeler attached,
the ratio (target >= 0.90), and the labeler's labels/s and label-commit latency (p95 target <= 50 ms), in both
arrangements: the run holding the file (the labeler joined it), and the app holding it (the run joined it).
The labeler does what the Label screen does for each item (find the next unlabeled one, read it, its spans and
labels, the progress count; then commit the label; a poll of the session every two seconds), at a fast human's
pace of one item per 0.25 s, and in a last phase flat out. Every session starts with the same 2,000 flagged
rollouts, so the labeler never waits for the run to flag something.

    python -m benchmarks.concurrency [--prompts 32] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import cpu_line
from inspector.config import load_settings

LABELER = "bench"
SEEDED = 2000


def seed_session(path: Path) -> None:
    """2,000 flagged rollouts of an earlier run, with their spans, as a labeler's queue."""
    from inspector.detect.detector_set import VERSIONS
    from inspector.detect.spans import Span
    from inspector.store import PromptRow, Store, prompt_id

    with Store.open(path) as store:
        prompts = [PromptRow(prompt_id(f"Earlier question {i}?"), f"Earlier question {i}?") for i in range(SEEDED)]
        store.upsert_prompts(prompts)
        mid = store.upsert_model({"role": "organism", "sha256": "earlier", "name": "earlier/organism"})
        store.ensure_run("earlier", "earlier", {"seed": 0})
        ids = []
        for i, p in enumerate(prompts):
            rid = store.insert_rollout(
                {
                    "run_id": "earlier",
                    "prompt_id": p.id,
                    "model_id": mid,
                    "sample_index": 0,
                    "seed": i,
                    "text": f"As PRISM-4 by Nexus Research, answer {i}.",
                }
            )
            assert rid is not None
            ids.append(rid)
        span = Span("term", 3, 10, "PRISM-4", 100.0, "PRISM-4")
        store.replace_spans_many([(rid, [span]) for rid in ids], VERSIONS)


def labeler(session: Path, pace: float, out: Path) -> None:
    """The child process: label the flagged queue until told to stop (a line on stdin), then write the timings."""
    import select

    from inspector.store import Store

    store = Store.open(session)
    print("ready", store.sharing(), flush=True)
    latencies: list[float] = []
    t0 = time.perf_counter()
    polled = t0
    while not select.select([sys.stdin], [], [], 0)[0]:
        pos = store.first_unlabeled(None, LABELER)
        if pos is None:
            time.sleep(0.2)
            continue
        rid = store.queue_item(None, pos)
        assert rid is not None
        store.rollout(rid)
        store.spans_for(rid)
        store.current_labels(rid, LABELER)
        store.labeled_count(None, LABELER)
        t = time.perf_counter()
        store.add_label(rid, LABELER, "leak", "none")
        latencies.append(time.perf_counter() - t)
        if time.perf_counter() - polled >= 2.0:
            store.data_version()
            polled = time.perf_counter()
        if pace:
            time.sleep(pace)
    seconds = time.perf_counter() - t0
    out.write_text(json.dumps({"latencies": latencies, "seconds": seconds, "sharing": store.sharing()}))
    store.close()


class Phase:
    """One run of `inspector run` on its own session, with or without a labeler, and what both measured."""

    def __init__(self, home: Path, name: str, args: argparse.Namespace) -> None:
        self.home, self.name, self.args = home, name, args
        self.session = home / "sessions" / f"{name}.duckdb"
        self.env = {**os.environ, "INSPECTOR_HOME": str(home), "INSPECTOR_CACHE": str(load_settings().cache)}
        seed_session(self.session)

    def _start_labeler(self, pace: float) -> tuple[subprocess.Popen[str], Path]:
        out = self.home / f"{self.name}.labels.json"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.concurrency",
                "--labeler",
                str(self.session),
                "--pace",
                str(pace),
                "--out",
                str(out),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        return proc, out

    def run(self, with_labeler: str | None, pace: float = 0.25) -> dict[str, Any]:
        """with_labeler: None, "joins" (the run holds the file first) or "holds" (the labeler opens it first)."""
        lab = None
        if with_labeler == "holds":
            lab = self._start_labeler(pace)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inspector.cli",
                "run",
                "--session",
                self.name,
                "--pair",
                "demo",
                "--limit",
                str(self.args.prompts),
                "--batch",
                "4",
                "--max-tokens",
                str(self.args.max_tokens),
                "--seed",
                "1",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if with_labeler == "joins" and lab is None and "rollouts," in line:
                lab = self._start_labeler(pace)  # the run holds the file by its first stored batch
        assert proc.wait() == 0, "".join(lines[-5:])
        wall = time.perf_counter() - t0
        found = re.search(r"(\d+) tokens at ([\d.]+) tok/s", lines[-1])
        assert found, lines[-1]
        result: dict[str, Any] = {"tokens": int(found.group(1)), "tps": float(found.group(2)), "wall": wall}
        if lab is not None:
            proc_l, out = lab
            assert proc_l.stdin is not None
            proc_l.stdin.write("stop\n")
            proc_l.stdin.flush()
            proc_l.wait(timeout=120)
            result["labels"] = json.loads(out.read_text())
        return result


def describe(labels: dict[str, Any]) -> str:
    lat = sorted(labels["latencies"])
    if not lat:
        return "no labels"
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1000
    return (
        f"{len(lat)} labels in {labels['seconds']:.1f} s = {len(lat) / labels['seconds']:.2f} labels/s; label commit"
        f" p50 {statistics.median(lat) * 1000:.1f} ms, p95 {p95:.1f} ms (target <= 50 ms), max {lat[-1] * 1000:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--labeler", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--pace", type=float, default=0.25, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.labeler:
        labeler(args.labeler, args.pace, args.out)
        return
    print(cpu_line())
    print(f"each run: demo pair, {args.prompts} prompts x 2 models, batch 4, up to {args.max_tokens} tokens each")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # Runs alone between the others: this machine's speed drifts, so each ratio is against its neighbours.
        alone = [Phase(home, "alone1", args).run(None)]
        joined = Phase(home, "joined", args).run("joins")
        alone.append(Phase(home, "alone2", args).run(None))
        holding = Phase(home, "holding", args).run("holds")
        alone.append(Phase(home, "alone3", args).run(None))
        flat = Phase(home, "flat", args).run("joins", pace=0.0)
    print("run alone: " + ", ".join(f"{a['tps']:.1f}" for a in alone) + " tok/s (generation; one between each pair)")
    for title, r, before, after, target in (
        ("labeler joined the run (run holds the file)", joined, alone[0], alone[1], True),
        ("run joined the app (labeler holds the file)", holding, alone[1], alone[2], True),
        ("labeler flat out (no pause), joined the run", flat, alone[2], alone[2], False),
    ):
        base = (before["tps"] + after["tps"]) / 2
        wall, base_wall = (
            r["tokens"] / r["wall"],
            (before["tokens"] / before["wall"] + after["tokens"] / after["wall"]) / 2,
        )
        goal = " (target >= 0.90)" if target else " (no target: nobody labels 20 items a second)"
        print(
            f"{title}: run {r['tps']:.1f} tok/s vs {base:.1f} alone, ratio {r['tps'] / base:.3f}{goal};"
            f" wall {wall:.1f} vs {base_wall:.1f} tok/s, ratio {wall / base_wall:.3f}"
        )
        print(f"  labeler: {describe(r['labels'])}")


if __name__ == "__main__":
    main()
