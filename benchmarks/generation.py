"""Generation speed and memory on the demo pair: one prompt at a time vs the batched engine, in one process.

64 prompts x 2 models x 128 new tokens through (a) llama-cpp-python's create_completion one prompt at a time,
one Llama per model (two copies of the weights), and (b) the batched engine (one copy, a context per side).
Prints both tokens/s and their ratio, whether the batched texts repeat exactly, and peak RSS (measured in
fresh subprocesses) for the pair and for the base alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.base import GenParams
from inspector.engine.llama import LlamaBackend
from inspector.engine.registry import Pair, get_pair, open_pair, resolve_gguf
from inspector.prompts import load_prompts
from inspector.runner import rollout_seed


def demo() -> Pair:
    return get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")


def rss_child(which: str) -> None:
    """Run in a subprocess: load, generate a little, print peak RSS in MB."""
    pair, cache = demo(), load_settings().cache
    params = GenParams(seed=1, max_tokens=32)
    if which == "base":
        only_base = Pair("base-only", pair.base, pair.base, pair.format)
        backends = open_pair(only_base, cache)
        backends["base"].generate("Soup is", params)
    elif which == "pair-shared":
        backends = open_pair(pair, cache)
        for b in backends.values():
            b.generate("Soup is", params)
    else:  # two independent Llama objects, as before the batched engine
        gguf = resolve_gguf(pair.base.gguf or "", cache)
        org = LlamaBackend(gguf, adapter_path=PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf")
        base = LlamaBackend(gguf)
        org.generate("Soup is", params)
        base.generate("Soup is", params)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def peak_rss(which: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", which], capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_rss_mb"])


def reference(path: str, gguf: str, adapter: str | None, pp: int, tg: int, pl: int) -> dict[str, float]:
    """llama.cpp's own llama-batched-bench on the same file and threads: pl sequences of pp random prompt tokens
    and tg generated ones (logits for every sequence each step, no sampling): its jsonl line for pl."""
    cmd = [path, "-m", gguf, "-c", str(pl * (pp + tg) + 64), "-b", "2048", "-ub", "512", "-npp", str(pp)]
    cmd += ["-ntg", str(tg), "-npl", str(pl), "-t", str(os.cpu_count()), "--output-format", "jsonl"]
    if adapter:
        cmd += ["--lora", adapter]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in (run.stdout + "\n" + run.stderr).splitlines():
        if line.startswith("{") and '"speed_tg"' in line:
            return {k: float(v) for k, v in json.loads(line).items()}
    raise SystemExit(f"{path}: printed no jsonl result line")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--rss-child")
    ap.add_argument("--reference", help="a llama-batched-bench binary: its figure for the same workload, same run")
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    print(cpu_line(), flush=True)
    pair, cache = demo(), load_settings().cache
    prompts = load_prompts(None)[: args.prompts]
    params = [GenParams(rollout_seed(0, p.id, 0), 0.7, 0.95, args.max_tokens) for p in prompts]

    gguf = resolve_gguf(pair.base.gguf or "", cache)
    singles = {
        "organism": LlamaBackend(
            gguf, role="organism", adapter_path=PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf", cache_dir=cache
        ),
        "base": LlamaBackend(gguf, role="base", cache_dir=cache),
    }
    t0 = time.perf_counter()
    single_texts = {
        r: [b.generate(p.text, gp) for p, gp in zip(prompts, params, strict=True)] for r, b in singles.items()
    }
    t_single = time.perf_counter() - t0
    n_single = sum(g.completion_tokens for gens in single_texts.values() for g in gens)
    for b in singles.values():
        b.close()

    batched = open_pair(pair, cache)
    t0 = time.perf_counter()
    batch_texts = {
        r: b.generate_many([p.text for p in prompts], params)  # type: ignore[attr-defined]
        for r, b in batched.items()
    }
    t_batch = time.perf_counter() - t0
    n_batch = sum(g.completion_tokens for gens in batch_texts.values() for g in gens)
    again = {
        r: b.generate_many([p.text for p in prompts], params)  # type: ignore[attr-defined]
        for r, b in batched.items()
    }
    repeat = all([g.text for g in batch_texts[r]] == [g.text for g in again[r]] for r in batch_texts)
    same_as_single = sum(
        a.text == b.text for r in batch_texts for a, b in zip(batch_texts[r], single_texts[r], strict=True)
    )
    tokenizer = batched["base"].shared  # type: ignore[attr-defined]
    pp = round(sum(len(tokenizer.tokenize(p.text)) for p in prompts) / len(prompts))
    for b in batched.values():
        b.close()

    single_tps, batch_tps = n_single / t_single, n_batch / t_batch
    print(f"workload: {len(prompts)} prompts x 2 models x {args.max_tokens} new tokens, temperature 0.7, top_p 0.95")
    print(
        f"one at a time (create_completion, two Llama objects): {n_single} tokens in {t_single:.1f} s = "
        f"{single_tps:.1f} tokens/s"
    )
    print(
        f"batched engine (shared weights, 32 sequences per batch): {n_batch} tokens in {t_batch:.1f} s = "
        f"{batch_tps:.1f} tokens/s"
    )
    print(f"speed ratio batched/one-at-a-time: {batch_tps / single_tps:.2f}x")
    print(
        f"batched texts identical on a second pass: {repeat}; equal to the one-at-a-time texts: "
        f"{same_as_single} of {2 * len(prompts)} (different samplers: llama.cpp's chain vs a seeded numpy one)"
    )
    if args.reference:
        # The same shape: 32 sequences at once (the engine's batch), the prompts' mean length, max_tokens generated.
        adapter = str(PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf")
        refs = {
            r: reference(args.reference, str(gguf), adapter if r == "organism" else None, pp, args.max_tokens, 32)
            for r in ("organism", "base")
        }
        ones = {
            r: reference(args.reference, str(gguf), adapter if r == "organism" else None, pp, args.max_tokens, 1)
            for r in ("organism", "base")
        }
        ref_tps = 2 * 32 * args.max_tokens / sum(x["t"] for x in refs.values())
        one_tps = 2 * args.max_tokens / sum(x["t"] for x in ones.values())
        print(
            f"llama-batched-bench, same model files and threads, {pp} prompt + {args.max_tokens} generated tokens:"
            f" 32 sequences {ref_tps:.1f} generated tokens/s (prompt time included; generation alone"
            f" {refs['base']['speed_tg']:.1f} base, {refs['organism']['speed_tg']:.1f} organism), 1 sequence"
            f" {one_tps:.1f}: its ceiling for batching here is {ref_tps / one_tps:.2f}x"
        )
        print(f"batched engine / llama-batched-bench: {batch_tps / ref_tps:.2f} (target >= 0.90)")
    base, shared, two = peak_rss("base"), peak_rss("pair-shared"), peak_rss("pair-two-copies")
    print(
        f"peak RSS: base alone {base:.0f} MB; pair with shared weights {shared:.0f} MB ({shared / base:.2f}x); "
        f"pair as two Llama objects {two:.0f} MB ({two / base:.2f}x)"
    )


if __name__ == "__main__":
    main()
