"""The sampler on Gemma's real next-token rows: how often the near-token nucleus answers without exponentiating
the whole vocabulary (a figure that moves with the CPU's logits, so it is measured here, not asserted in a test),
and the time a row takes that way against the whole-row path measured in the same run.

    python -m benchmarks.sampler [--prompts 32] [--temperature 0.7] [--top-p 0.95]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.base import GenParams
from inspector.engine.registry import get_pair, open_pair
from inspector.engine.sampling import _full_nucleus, _near_nucleus, sample_rows
from inspector.formats.prompt_files import load_prompts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--top-p", type=float, default=0.95)
    args = ap.parse_args()
    print(cpu_line())
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    sides = open_pair(pair, load_settings().cache, n_seq=4, ctx_per_seq=128)
    base = sides["base"]
    rows = []
    for p in load_prompts(None)[: args.prompts]:
        toks = base.shared.tokenize(p.text)  # type: ignore[attr-defined]
        rows.append(base.decode_rows(toks, len(toks) - 1)[0])  # type: ignore[attr-defined]
    for s in sides.values():
        s.close()
    t, top_p = args.temperature, args.top_p
    hits = sum(_near_nucleus(r, t, top_p, 0.5) is not None for r in rows)
    print(f"{len(rows)} rows (the base's next token after each default prompt), T {t}, top-p {top_p}")
    print(
        f"near-token nucleus answers {hits} of {len(rows)} rows ({hits / len(rows):.0%}); the rest take the whole row"
    )
    params = [GenParams(temperature=t, top_p=top_p)]
    t0 = time.perf_counter()
    for r in rows:
        sample_rows(r[None, :], params, [np.random.default_rng(0)])
    ours = (time.perf_counter() - t0) / len(rows)
    t0 = time.perf_counter()
    for r in rows:
        e = np.exp((r - r.max()) / np.float32(t))
        _full_nucleus(e, top_p, 0.5)
    whole = (time.perf_counter() - t0) / len(rows)
    print(
        f"sampler {ours * 1e3:.2f} ms a row; whole-row path alone {whole * 1e3:.2f} ms a row; ratio {whole / ours:.2f}x"
    )


if __name__ == "__main__":
    main()
