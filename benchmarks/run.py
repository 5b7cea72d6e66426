"""`inspector run` end to end, from process start: 32 prompts x 2 models x 64 new tokens on the demo pair (model
load, detector index, generation, detection, storage), against a plain llama-cpp-python loop over the same work
(two Llama objects, create_completion one prompt at a time, nothing stored), also from process start, in the
same run. Also the time from process start to the first stored rollout.

With --reference PATH (llama.cpp's llama-batched-bench), also that tool's own ceiling for batching on this machine,
measured in the same run: its generated tokens/s at 32 sequences over 1 sequence (the prompts' mean length, the
same new tokens, the base model), and what share of that ceiling the end-to-end ratio reaches. The ceiling differs
per CPU (2.56x on a 2-core AVX2 EPYC, 3.88x on an AVX-512 one), so the share is what compares across machines.

    python -m benchmarks.run [--prompts 32] [--max-tokens 64] [--reference PATH/llama-batched-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.generation import reference
from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.registry import GEMMA_PACKAGE, PACKAGE_PREFIX, resolve_gguf
from inspector.formats.prompt_files import load_prompts

NAIVE = """
import json, os, sys
from llama_cpp import Llama
gguf, adapter, prompts_file, max_tokens = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
prompts = [json.loads(line)["prompt"] for line in open(prompts_file, encoding="utf-8")]
for lora in (adapter, None):
    llm = Llama(gguf, lora_path=lora, n_ctx=512, n_threads=os.cpu_count(), verbose=False)
    for k, p in enumerate(prompts):
        llm.create_completion(p, max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=k)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--reference", help="a llama-batched-bench binary: its 32-vs-1 ratio, same run")
    args = ap.parse_args()
    print(cpu_line(), flush=True)
    cache = load_settings().cache
    gguf = resolve_gguf(PACKAGE_PREFIX + GEMMA_PACKAGE, cache)
    adapter = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "INSPECTOR_HOME": home, "INSPECTOR_CACHE": str(cache)}
        size = ["--limit", str(args.prompts), "--max-tokens", str(args.max_tokens)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspector.cli", "run", "--session", "bench", "--pair", "demo", *size],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Without a terminal, `run` prints a line per stored batch ("demo: 32/64 rollouts, ..."): the first one
        # with rollouts in it marks the first stored rollout.
        first = None
        assert proc.stderr is not None
        for line in proc.stderr:
            m = re.search(r": (\d+)/\d+ rollouts", line)
            if first is None and m and int(m.group(1)) > 0:
                first = time.perf_counter() - t0
        if proc.wait() != 0:
            raise SystemExit("inspector run failed")
        ours = time.perf_counter() - t0
        with duckdb.connect(str(Path(home) / "sessions" / "bench.duckdb"), read_only=True) as c:
            row = c.execute("SELECT sum(completion_tokens) FROM rollouts").fetchone()
        tokens = int(row[0]) if row and row[0] is not None else 0
        prompts = Path(home) / "prompts.jsonl"
        prompts.write_text(
            "".join(json.dumps({"prompt": p.text}) + "\n" for p in load_prompts(None)[: args.prompts]),
            encoding="utf-8",
        )
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", NAIVE, str(gguf), str(adapter), str(prompts), str(args.max_tokens)],
            check=True,
            capture_output=True,
        )
        naive = time.perf_counter() - t0
    work = f"{args.prompts} prompts x 2 models x {args.max_tokens} new tokens"
    print(f"inspector run from process start, {work}: {ours:.1f} s ({tokens} tokens stored)")
    print(f"  first rollouts stored {first or ours:.1f} s after process start")
    print(f"plain llama-cpp-python loop from process start, same work, nothing stored: {naive:.1f} s")
    ratio = naive / ours
    print(f"ratio {ratio:.2f}x")
    if args.reference:
        from inspector.engine.weights import SharedModel

        shared = SharedModel(gguf, None, cache)
        texts = [p.text for p in load_prompts(None)[: args.prompts]]
        pp = round(sum(len(shared.tokenize(t)) for t in texts) / len(texts))
        many = reference(args.reference, str(gguf), pp, args.max_tokens, 32)
        one = reference(args.reference, str(gguf), pp, args.max_tokens, 1)
        ceiling = (32 / many["t"]) / (1 / one["t"])
        print(
            f"llama-batched-bench, same machine and run, {pp} prompt + {args.max_tokens} generated tokens: 32 sequences"
            f" {32 * args.max_tokens / many['t']:.1f} tokens/s, 1 sequence {args.max_tokens / one['t']:.1f}: ceiling"
            f" {ceiling:.2f}x"
        )
        print(f"share of the ceiling: {ratio / ceiling:.2f} (target >= 0.90)")


if __name__ == "__main__":
    main()
