"""`inspector ifeval` over the default set on a pair, both models: wall time against the issue's 10 minutes.

Prints the CPU, the whole run's seconds and tokens/s (batched, as the command runs it), and as the baseline the
same prompts' first 16 answered one at a time (batch 1) in the same process, with the ratio per response.

    .venv/bin/python -m benchmarks.ifeval_run --pair chat-demo
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.machine import cpu_line
from inspector.actions.ifeval import DEFAULT_SET, run_ifeval
from inspector.config import load_settings
from inspector.engine.base import GenParams
from inspector.engine.registry import open_pair, resolve_pair
from inspector.formats.ifeval_files import read_input_data
from inspector.store import Store


def timed(pair_name: str, batch: int, limit: int | None, max_tokens: int) -> tuple[float, int, int, dict[str, object]]:
    settings = load_settings()
    pair = resolve_pair(settings.models_file, pair_name)
    prompts = read_input_data(DEFAULT_SET)[:limit] if limit else read_input_data(DEFAULT_SET)
    backends = open_pair(pair, settings.cache, n_seq=batch)
    try:
        with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.duckdb") as store:
            t0 = time.perf_counter()
            params = GenParams(seed=0, temperature=0.0, top_p=1.0, max_tokens=max_tokens)
            done = run_ifeval(store, pair, backends, DEFAULT_SET, prompts, params, None)
            seconds = time.perf_counter() - t0
    finally:
        for b in backends.values():
            b.close()
    return seconds, done.progress.done, done.progress.tokens, done.figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", default="chat-demo")
    ap.add_argument("--max-tokens", type=int, default=96)
    args = ap.parse_args()
    print(cpu_line())
    seconds, n, tokens, figures = timed(args.pair, 32, None, args.max_tokens)
    print(
        f"{args.pair}: default IFEval set, both models, {n} answers, {tokens} tokens in {seconds:.0f} s"
        f" ({tokens / seconds:.1f} tok/s, {seconds / 60:.1f} of the 10 minutes)"
    )
    for name, m in figures["models"].items():  # type: ignore[attr-defined]
        print(f"    {name}: prompt-level strict {m['prompt_strict']:.1%}, loose {m['prompt_loose']:.1%}")
    b_seconds, b_n, b_tokens, _ = timed(args.pair, 1, 16, args.max_tokens)
    print(
        f"baseline, one at a time: {b_n} answers, {b_tokens} tokens in {b_seconds:.0f} s ({b_tokens / b_seconds:.1f}"
        f" tok/s); batched is {(b_seconds / b_n) / (seconds / n):.2f}x faster per answer"
    )


if __name__ == "__main__":
    main()
