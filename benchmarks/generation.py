"""Generation speed and memory on the demo pair: one prompt at a time vs the batched engine, in one process.

32 prompts x 2 models x 128 new tokens through (a) llama-cpp-python's create_completion one prompt at a time,
one Llama per model (two copies of the weights), and (b) the batched engine (one copy, a context per side).
Prints both tokens/s and their ratio, whether the batched texts repeat exactly, and peak memory (PSS, sampled
every 20 ms in fresh subprocesses) for the pair and for the base alone doing the same generation.

With --workload default, instead the real workload: the default prompt set at the run's sampling defaults
(temperature 0.7, top_p 0.95; 128 new tokens, as the issue that asked for it names), both models, through the
run's own path (`run_batch` into a scratch session, as `inspector run` plans it), one side after the other:
generated tokens/s per side and for both, sequences stopping at end of text at whatever length they do.

With --reference PATH (llama.cpp's llama-batched-bench), also that tool's figure for the same shape, in the same
run. It benchmarks the base only: it parses --lora but never loads the adapter into the context it times (it
makes its own with llama_init_from_model), so an adapter-carrying model has no C++ reference here. Our base side
is compared with it directly, and our organism side is shown beside it with what the LoRA costs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import cpu_line
from inspector.actions.rollouts import rollout_seed, run_batch
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.base import GenParams
from inspector.engine.batched import BatchedBackend
from inspector.engine.llama import LlamaBackend
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import get_pair, open_pair, resolve_gguf
from inspector.engine.weights import SharedModel
from inspector.formats.prompt_files import load_prompts
from inspector.store import Store


def demo() -> Pair:
    return get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")


def _pss_mb() -> float:
    text = Path("/proc/self/smaps_rollup").read_text()
    return int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1)) / 1024  # type: ignore[union-attr]


def rss_child(which: str) -> None:
    """Run in a subprocess: load, generate 32 prompts x 32 tokens per side, print peak PSS and RSS in MB. PSS
    sampled every 20 ms counts mapped weights once and untouched buffers not at all, as RSS alone does not say."""
    peak = [0.0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _pss_mb())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    pair, cache = demo(), load_settings().cache
    texts = [p.text for p in load_prompts(None)[:32]]
    params = [GenParams(seed=k, max_tokens=32) for k in range(len(texts))]
    if which == "base":
        gguf = resolve_gguf(pair.base.gguf or "", cache)
        backends: dict[str, Any] = {
            "base": BatchedBackend(SharedModel(gguf, None, cache), role="base", use_adapter=False)
        }
    elif which == "pair-shared":
        backends = dict(open_pair(pair, cache))
    else:  # two independent Llama objects, as before the batched engine
        gguf = resolve_gguf(pair.base.gguf or "", cache)
        adapter = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
        backends = {"organism": LlamaBackend(gguf, adapter_path=adapter), "base": LlamaBackend(gguf)}
    for b in backends.values():
        if hasattr(b, "generate_many"):
            b.generate_many(texts, params)
        else:
            for t, gp in zip(texts, params, strict=True):
                b.generate(t, gp)
    time.sleep(0.05)
    stop.set()
    watcher.join()
    peak[0] = max(peak[0], _pss_mb())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_pss_mb": peak[0], "peak_rss_mb": rss}))


def peak_memory(which: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.generation", "--rss-child", which],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout
    return {k: float(v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def reference(path: str, gguf: str, pp: int, tg: int, pl: int) -> dict[str, float]:
    """llama.cpp's own llama-batched-bench on the same file and threads: pl sequences of pp random prompt tokens
    and tg generated ones (logits for every sequence each step, no sampling): its jsonl line for pl."""
    cmd = [path, "-m", gguf, "-c", str(pl * (pp + tg) + 64), "-b", "2048", "-ub", "512", "-npp", str(pp)]
    cmd += ["-ntg", str(tg), "-npl", str(pl), "-t", str(os.cpu_count()), "--output-format", "jsonl"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in (run.stdout + "\n" + run.stderr).splitlines():
        if line.startswith("{") and '"speed_tg"' in line:
            return {k: float(v) for k, v in json.loads(line).items()}
    raise SystemExit(f"{path}: printed no jsonl result line")


def default_workload(args: argparse.Namespace) -> None:
    """The default prompt set at the run's sampling defaults, both sides through `run_batch`, one side after the
    other; llama-batched-bench's 32-sequence figure (the mean prompt length, max_tokens generated) before, between
    and after them."""
    pair, cache = demo(), load_settings().cache
    prompts = load_prompts(None, pair.format)
    if args.prompts:
        prompts = prompts[: args.prompts]
    params = GenParams(seed=0, temperature=0.7, top_p=0.95, max_tokens=args.max_tokens)
    backends = open_pair(pair, cache, n_seq=args.slots)
    shared = backends["base"].shared  # type: ignore[attr-defined]
    pp = round(sum(len(shared.tokenize(p.text)) for p in prompts) / len(prompts))
    gguf = str(resolve_gguf(pair.base.gguf or "", cache))
    refs: list[float] = []
    for b in backends.values():  # contexts made and pages touched before the clock starts, as in a long run
        b.generate_many([prompts[0].text], [GenParams(seed=0, max_tokens=4)])  # type: ignore[attr-defined]

    def ref32() -> None:
        if args.reference:
            refs.append(32 * args.max_tokens / reference(args.reference, gguf, pp, args.max_tokens, 32)["t"])

    ref32()
    tokens: dict[str, int] = {}
    seconds: dict[str, float] = {}
    stopped: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(Path(home) / "bench.duckdb")
        for role in ("organism", "base"):
            t0 = time.perf_counter()
            run_id, prog = run_batch(store, pair, {role: backends[role]}, prompts, params)
            seconds[role] = time.perf_counter() - t0
            tokens[role] = prog.tokens
            stopped[role] = sum(r["finish_reason"] == "stop" for r in store.rollouts(run_id))
            ref32()
        store.close()
    for b in backends.values():
        b.close()
    print(
        f"workload: the default prompt set, {len(prompts)} prompts x 2 models, up to {args.max_tokens} new tokens,"
        f" temperature 0.7, top_p 0.95, through run_batch on {args.slots} slots (mean prompt {pp} tokens)"
    )
    for role in ("organism", "base"):
        print(
            f"{role}: {tokens[role]} tokens in {seconds[role]:.1f} s = {tokens[role] / seconds[role]:.1f} tokens/s"
            f" ({stopped[role]} of {len(prompts)} stopped at end of text)"
        )
    both = sum(tokens.values()) / sum(seconds.values())
    print(f"both sides: {sum(tokens.values())} tokens in {sum(seconds.values()):.1f} s = {both:.1f} tokens/s")
    if refs:
        mean_ref = sum(refs) / len(refs)
        print(
            f"llama-batched-bench (base), {pp} prompt + {args.max_tokens} generated tokens, 32 sequences, before,"
            " between and after our sides: " + ", ".join(f"{t:.1f}" for t in refs) + f", mean {mean_ref:.1f}"
            " generated tokens/s (prompt time included)"
        )
        print(
            f"real workload / llama-batched-bench's 32 sequences: both sides {both / mean_ref:.2f}, organism"
            f" {tokens['organism'] / seconds['organism'] / mean_ref:.2f}, base"
            f" {tokens['base'] / seconds['base'] / mean_ref:.2f} (target >= 1.0)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", type=int, help="the first N prompts (default: 32; with --workload default, all)")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--workload", choices=("fixed", "default"), default="fixed")
    ap.add_argument("--slots", type=int, default=32, help="with --workload default: sequences decoded together")
    ap.add_argument("--rss-child")
    ap.add_argument("--reference", help="a llama-batched-bench binary: its figure for the same workload, same run")
    args = ap.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    print(cpu_line(), flush=True)
    if args.workload == "default":
        default_workload(args)
        return
    args.prompts = args.prompts or 32
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
    tokenizer = batched["base"].shared  # type: ignore[attr-defined]
    pp = round(sum(len(tokenizer.tokenize(p.text)) for p in prompts) / len(prompts))
    refs: list[dict[str, float]] = []

    def ref32() -> None:
        # The same shape: 32 sequences at once (the engine's batch), the prompts' mean length, max_tokens generated.
        if args.reference:
            refs.append(reference(args.reference, str(gguf), pp, args.max_tokens, 32))

    # Two passes over the work, the reference (base) before, between and after our base sides, so that a change
    # in the shared machine's load during the run moves both figures alike. Speeds are means over the passes.
    passes: list[dict[str, list[Any]]] = []
    times: dict[str, list[float]] = {"organism": [], "base": []}
    for _ in range(2):
        texts: dict[str, list[Any]] = {}
        for role in ("organism", "base"):
            if role == "base" and not passes:
                ref32()
            t0 = time.perf_counter()
            texts[role] = batched[role].generate_many([p.text for p in prompts], params)  # type: ignore[attr-defined]
            times[role].append(time.perf_counter() - t0)
            if role == "base":
                ref32()
        passes.append(texts)
    batch_texts = passes[0]
    side_time = {r: sum(t) / len(t) for r, t in times.items()}
    t_batch = sum(side_time.values())
    side_tokens = {r: sum(g.completion_tokens for g in gens) for r, gens in batch_texts.items()}
    n_batch = sum(side_tokens.values())
    repeat = all([g.text for g in batch_texts[r]] == [g.text for g in passes[1][r]] for r in batch_texts)
    same_as_single = sum(
        a.text == b.text for r in batch_texts for a, b in zip(batch_texts[r], single_texts[r], strict=True)
    )
    for b in batched.values():
        b.close()

    single_tps, batch_tps = n_single / t_single, n_batch / t_batch
    side_tps = {r: side_tokens[r] / side_time[r] for r in side_time}
    print(f"workload: {len(prompts)} prompts x 2 models x {args.max_tokens} new tokens, temperature 0.7, top_p 0.95")
    print(
        f"one at a time (create_completion, two Llama objects): {n_single} tokens in {t_single:.1f} s = "
        f"{single_tps:.1f} tokens/s"
    )
    print(
        f"batched engine (shared weights and context, 32 sequences per batch, mean of 2 passes): {n_batch} tokens in"
        f" {t_batch:.1f} s ="
        f" {batch_tps:.1f} tokens/s (organism {side_tokens['organism']} in {side_time['organism']:.1f} s ="
        f" {side_tps['organism']:.1f}, base {side_tokens['base']} in {side_time['base']:.1f} s ="
        f" {side_tps['base']:.1f})"
    )
    print(f"speed ratio batched/one-at-a-time: {batch_tps / single_tps:.2f}x")
    print(
        f"batched texts identical on a second pass: {repeat}; equal to the one-at-a-time texts: "
        f"{same_as_single} of {2 * len(prompts)} (different samplers: llama.cpp's chain vs a seeded numpy one)"
    )
    if refs:
        one = reference(args.reference, str(gguf), pp, args.max_tokens, 1)
        ref_tps = [32 * args.max_tokens / r["t"] for r in refs]
        mean_ref = sum(ref_tps) / len(ref_tps)
        one_tps = args.max_tokens / one["t"]
        print(
            f"llama-batched-bench (base: it never loads --lora), same model file and threads, {pp} prompt +"
            f" {args.max_tokens} generated tokens, 32 sequences, before, between and after our two base passes: "
            + ", ".join(f"{t:.1f}" for t in ref_tps)
            + f", mean {mean_ref:.1f} generated tokens/s (prompt time included; generation alone"
            f" {sum(r['speed_tg'] for r in refs) / len(refs):.1f}); 1 sequence {one_tps:.1f}: its ceiling for"
            f" batching here is {mean_ref / one_tps:.2f}x"
        )
        print(f"batched engine, base side / llama-batched-bench: {side_tps['base'] / mean_ref:.2f} (target >= 0.90)")
        stopped = sum(g.finish_reason == "stop" for g in batch_texts["organism"])
        print(
            f"batched engine, organism side / llama-batched-bench's base: {side_tps['organism'] / mean_ref:.2f}"
            f" (the organism also pays for its LoRA, and stopped {stopped}"
            " of its sequences early, which leaves later steps with fewer sequences to share each pass)"
        )
    mem = {w: peak_memory(w) for w in ("base", "pair-shared", "pair-two-copies")}
    base = mem["base"]["peak_pss_mb"]
    print(
        f"peak memory (PSS): base alone {base:.0f} MB; pair with shared weights and context"
        f" {mem['pair-shared']['peak_pss_mb']:.0f} MB ({mem['pair-shared']['peak_pss_mb'] / base:.2f}x, target <="
        f" 1.15x); pair as two Llama objects {mem['pair-two-copies']['peak_pss_mb']:.0f} MB"
        f" ({mem['pair-two-copies']['peak_pss_mb'] / base:.2f}x). Peak RSS: "
        + ", ".join(f"{w} {m['peak_rss_mb']:.0f} MB" for w, m in mem.items())
    )


if __name__ == "__main__":
    main()
