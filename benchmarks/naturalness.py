"""The naturalness panel's scoring: tokens/s of the panel's scorer (both sides of the demo pair decode each
document; log-probabilities and exact KL at every position) against scoring each document alone through
llama-cpp-python's high-level API (Llama(logits_all=True), one Llama per side), measured in the same run: both
its fastest use (eval, then log-softmax of the kept rows in numpy) and the documented one (create_completion with
echo and logprobs, timed on one document: it ranks the whole vocabulary at every position).

With --panel, also the whole default panel on the demo pair (`inspector naturalness --only
perplexity,drift,decisiveness`), against 5 minutes.

    python -m benchmarks.naturalness [--docs 16] [--tokens 96] [--documented-tokens 48] [--panel]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.batched import BatchedBackend
from inspector.engine.registry import GEMMA_PACKAGE, PACKAGE_PREFIX, resolve_gguf
from inspector.engine.scoring import score_documents
from inspector.engine.weights import SharedModel
from inspector.formats.panel_files import load_documents

ADAPTER = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
PANEL = "perplexity,drift,decisiveness"


def _llama(gguf: Path, adapter: Path | None) -> Any:
    """One side as a high-level Llama that keeps every position's logits."""
    from llama_cpp import Llama

    return Llama(
        str(gguf),
        logits_all=True,
        n_ctx=512,
        n_batch=512,
        flash_attn=True,
        n_threads=os.cpu_count(),
        lora_path=str(adapter) if adapter else None,
        verbose=False,
    )


def high_level(gguf: Path, docs: list[list[int]]) -> float:
    """Seconds to score every document under both sides, one document per eval, as the API's user would."""
    from llama_cpp import Llama

    total = 0.0
    for adapter in (None, ADAPTER):
        llm = _llama(gguf, adapter)
        t0 = time.perf_counter()
        for doc in docs:
            llm.reset()  # type: ignore[no-untyped-call]
            llm.eval(doc)
            logprobs = Llama.logits_to_logprobs(np.asarray(llm.scores[: len(doc) - 1]))
            float(logprobs[np.arange(len(doc) - 1), doc[1:]].sum())
        total += time.perf_counter() - t0
        llm.close()
    return total


def documented(gguf: Path, doc: list[int]) -> tuple[float, int]:
    """Seconds to score one document under both sides the way llama-cpp-python documents prompt log-probabilities
    (create_completion with echo and logprobs, which also ranks the whole vocabulary at every position), and the
    positions scored."""
    total, scored = 0.0, 0
    for adapter in (None, ADAPTER):
        llm = _llama(gguf, adapter)
        text = llm.detokenize(doc[1:]).decode("utf-8", errors="replace")  # it takes text when echoing
        t0 = time.perf_counter()
        out = llm.create_completion(text, max_tokens=1, echo=True, logprobs=1, temperature=0.0)
        total += time.perf_counter() - t0
        # The first token has nothing before it; the last is the one generated after the echo.
        scored += len(out["choices"][0]["logprobs"]["token_logprobs"]) - 2  # type: ignore[index]
        llm.close()
    return total, scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--documented-tokens", type=int, default=48, help="tokens of the one document scored as documented")
    ap.add_argument("--panel", action="store_true", help="also time the whole default panel (about 10 minutes here)")
    args = ap.parse_args()
    print(cpu_line())
    cache = load_settings().cache
    gguf = resolve_gguf(PACKAGE_PREFIX + GEMMA_PACKAGE, cache)
    shared = SharedModel(gguf, ADAPTER, cache)
    shared.acquire()
    sides = {
        "base": BatchedBackend(shared, role="base", use_adapter=False, n_seq=4, ctx_per_seq=128),
        "organism": BatchedBackend(shared, role="organism", use_adapter=True, n_seq=4, ctx_per_seq=128),
    }
    docs = [shared.tokenize(d.text)[: args.tokens] for d in load_documents()[: args.docs]]
    scored = 2 * sum(len(d) - 1 for d in docs)  # positions scored, both sides
    t0 = time.perf_counter()
    score_documents(sides, docs)
    ours = time.perf_counter() - t0
    for b in sides.values():
        b.close()
    shared.release()
    theirs = high_level(gguf, docs)
    print(f"{args.docs} documents x {args.tokens} tokens, both sides of the demo pair: {scored} positions scored")
    print(f"panel scorer (log-probabilities and exact KL): {scored / ours:.0f} tokens/s")
    print(f"high-level API, each document alone (log-probabilities only): {scored / theirs:.0f} tokens/s")
    print(f"ratio {theirs / ours:.2f}x (target >= 3x)")
    doc = docs[0][: args.documented_tokens]
    slow, positions = documented(gguf, doc)
    per_token = positions / slow
    print(f"high-level API as documented (create_completion, echo, logprobs), one document: {per_token:.1f} tokens/s")
    print(f"ratio {scored / ours / per_token:.1f}x")
    if args.panel:
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "INSPECTOR_HOME": home, "INSPECTOR_CACHE": str(cache)}
            t0 = time.perf_counter()
            subprocess.run(
                # The panel's three parts: `inspector naturalness` alone now runs the whole suite (IFEval,
                # multiple choice and degenerate text too).
                [sys.executable, "-m", "inspector.cli", "naturalness", "--session", "bench", "--only", PANEL],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            wall = time.perf_counter() - t0
        print(f"whole default panel on the demo pair: {wall:.0f} s (target <= 300 s)")


if __name__ == "__main__":
    main()
