"""Verdicts of IFEval's reference implementation (lm-eval's port of google-research's), for the agreement benchmark.

Run with a Python that has the reference's own needs (nltk with its punkt_tab data, langdetect, absl-py,
immutabledict) and lm-eval's `lm_eval/tasks/ifeval` importable; never imported by the project. It writes, per
response, the same line `inspector ifeval score` writes, so `ifeval_agreement.py` can compare them:

    python benchmarks/ifeval_reference.py --input-data input_data.jsonl --responses r.jsonl --out ref.jsonl

langdetect and the reference's own random choices are seeded (it picks a random letter where a letter-frequency
kwarg is not a letter a-z), so two runs agree with each other.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import langdetect
from lm_eval.tasks.ifeval import utils  # type: ignore[import-not-found]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input-data", type=Path, required=True)
    ap.add_argument("--responses", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    langdetect.DetectorFactory.seed = 0
    random.seed(0)
    rows = [json.loads(ln) for ln in args.input_data.read_text(encoding="utf-8").splitlines() if ln.strip()]
    by_prompt = {r["prompt"]: r for r in rows}
    with args.out.open("w", encoding="utf-8") as out:
        for line in args.responses.read_text(encoding="utf-8").splitlines():
            resp = json.loads(line)
            row = by_prompt[resp["prompt"]]
            inp = utils.InputExample(row["key"], row["instruction_id_list"], row["prompt"], row["kwargs"])
            strict = utils.test_instruction_following_strict(inp, resp["response"])
            loose = utils.test_instruction_following_loose(inp, resp["response"])
            verdicts = [
                {"id": i, "strict": s, "loose": lo}
                for i, s, lo in zip(
                    row["instruction_id_list"],
                    strict.follow_instruction_list,
                    loose.follow_instruction_list,
                    strict=True,
                )
            ]
            record = {"key": row["key"], "prompt": row["prompt"], "strict": strict.follow_all_instructions}
            out.write(json.dumps({**record, "loose": loose.follow_all_instructions, "instructions": verdicts}) + "\n")


if __name__ == "__main__":
    main()
