"""IFEval scorer against the reference implementation: verdict agreement per response set, and scoring speed.

For each `NAME=FILE` responses set it scores the responses here (timed), runs `ifeval_reference.py` under the
reference's own Python (timed, the baseline), and prints how often the instruction verdicts agree, strict and
loose, with the ids where they differ. Response sets: the official GPT-4 responses, and the two frozen
generators of `ifeval_responses.py` (written before the scorer, never tuned against).

    .venv/bin/python -m benchmarks.ifeval_agreement --input-data input_data.jsonl \\
        --responses gpt4=gpt4.jsonl --responses boundary=b.jsonl --responses wild=w.jsonl \\
        --reference-python /tmp/refvenv/bin/python --reference-path /tmp/lmref --nltk-data /tmp/nltk_data
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.machine import cpu_line
from inspector.actions.ifeval import score_files
from inspector.analysis.ifeval.language import detect
from inspector.formats.ifeval_files import score_line

HERE = Path(__file__).parent


def reference(args: argparse.Namespace, responses: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(args.reference_path), "NLTK_DATA": str(args.nltk_data)}
    cmd = [str(args.reference_python), str(HERE / "ifeval_reference.py"), "--input-data", str(args.input_data)]
    t0 = time.perf_counter()
    subprocess.run([*cmd, "--responses", str(responses), "--out", str(out)], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def compare(ours: list[dict[str, object]], ref: list[dict[str, object]]) -> tuple[str, Counter[str]]:
    agree = {"strict": 0, "loose": 0}
    prompt_agree = {"strict": 0, "loose": 0}
    n = 0
    differ: Counter[str] = Counter()
    for a, b in zip(ours, ref, strict=True):
        for mode in ("strict", "loose"):
            prompt_agree[mode] += a[mode] == b[mode]
        for va, vb in zip(a["instructions"], b["instructions"], strict=True):  # type: ignore[call-overload]
            n += 1
            for mode in ("strict", "loose"):
                same = va[mode] == vb[mode]
                agree[mode] += same
                if not same:
                    differ[f"{va['id']} ({mode})"] += 1
    m = len(ours)
    line = (
        f"instruction verdicts agree: strict {agree['strict'] / n:.2%}, loose {agree['loose'] / n:.2%} of {n}; "
        f"prompt verdicts: strict {prompt_agree['strict'] / m:.2%}, loose {prompt_agree['loose'] / m:.2%} of {m}"
    )
    return line, differ


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-data", type=Path, required=True)
    ap.add_argument("--responses", action="append", required=True, metavar="NAME=FILE")
    ap.add_argument("--reference-python", type=Path, required=True)
    ap.add_argument("--reference-path", type=Path, required=True, help="a folder holding lm_eval/tasks/ifeval")
    ap.add_argument("--nltk-data", type=Path, required=True, help="a folder holding tokenizers/punkt_tab")
    args = ap.parse_args()
    print(cpu_line())
    # langdetect loads its 55 language profiles on first use, once per process: timed apart from the scoring.
    t0 = time.perf_counter()
    detect("a warm-up sentence in English")
    print(f"first use: langdetect's profiles loaded in {time.perf_counter() - t0:.2f} s")
    for spec in args.responses:
        name, _, file = spec.partition("=")
        t0 = time.perf_counter()
        one = [s for _, s in score_files(args.input_data, Path(file), workers=1)]
        one_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = [json.loads(score_line(p, s)) for p, s in score_files(args.input_data, Path(file))]
        seconds = time.perf_counter() - t0
        assert [o["strict"] for o in ours] == [s.strict for s in one]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "ref.jsonl"
            ref_seconds = reference(args, Path(file), out)
            ref = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
        line, differ = compare(ours, ref)
        n = len(ours)
        print(f"{name}: {line}")
        print(
            f"{name}: scoring {n / seconds:,.0f} responses/s here ({n / one_seconds:,.0f} on one core), reference "
            f"{n / ref_seconds:,.0f} responses/s on one core (its process start included), ratio "
            f"{ref_seconds / seconds:.2f}x ({ref_seconds / one_seconds:.2f}x core for core)"
        )
        for what, count in differ.most_common(8):
            print(f"    differ on {what}: {count}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
