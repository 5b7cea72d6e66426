"""`inspector mcq` over the shipped set on a pair, both models: wall time against the issue's 2 minutes.

Prints the CPU, the whole set's seconds for both sides as the command scores it (each question after a head
decoded once per subject), and as the baseline llama-cpp-python's own high-level API on the same GGUF and the
same whole prompts (Llama.eval, then the last position's logits: no head shared), for the first 40 questions
of the base, in the same process, with the ratio per question.

    .venv/bin/python -m benchmarks.mcq_run --pair chat-demo
"""

from __future__ import annotations

import argparse
import time

import llama_cpp

from benchmarks.machine import cpu_line
from inspector.analysis.mcq import prompts_for, run_mcq
from inspector.config import load_settings
from inspector.engine.batched import BatchedBackend
from inspector.engine.registry import open_pair, resolve_pair
from inspector.formats.mcq_files import load_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", default="chat-demo")
    args = ap.parse_args()
    print(cpu_line())
    settings = load_settings()
    pair = resolve_pair(settings.models_file, args.pair)
    questions = load_questions()
    backends = open_pair(pair, settings.cache, n_seq=32, ctx_per_seq=96)
    try:
        t0 = time.perf_counter()
        figures = run_mcq(pair.name, backends, questions)
        seconds = time.perf_counter() - t0
        base = backends["base"]
        assert isinstance(base, BatchedBackend)
        texts = [base.render(p) for p in prompts_for(base, questions[:40], None)]
        path = str(base.shared.path)
    finally:
        for b in backends.values():
            b.close()
    n = len(questions)
    print(f"{args.pair}: {n} questions, both models, in {seconds:.1f} s ({seconds / 120:.0%} of the 2 minutes)")
    for name, m in figures["models"].items():
        print(f"    {name}: accuracy {m['accuracy']:.1%}, answer mass {m['answer_mass']:.2f}")
    llm = llama_cpp.Llama(path, n_ctx=512, n_batch=512, n_threads=None, verbose=False)
    t0 = time.perf_counter()
    for text in texts:
        llm.reset()
        llm.eval(llm.tokenize(text.encode(), add_bos=True, special=True))
    b_seconds = time.perf_counter() - t0
    per_ours, per_base = seconds / (2 * n), b_seconds / len(texts)
    print(
        f"baseline, llama-cpp-python's Llama.eval on whole prompts (base only): {len(texts)} questions in"
        f" {b_seconds:.1f} s, {per_base * 1000:.0f} ms each; ours {per_ours * 1000:.0f} ms each per model,"
        f" {per_base / per_ours:.2f}x"
    )


if __name__ == "__main__":
    main()
