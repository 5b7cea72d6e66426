"""How far llama.cpp's logits move between batch shapes and between builds (AVX2 vs AVX-512): the size of the
test suite's logit jitter (inspector/engine/jitter.py) comes from here.

    python -m benchmarks.logit_spread dump --out A.npz          # under one llama-cpp-python build
    python -m benchmarks.logit_spread compare A.npz [B.npz]     # paths within A; the same path across A and B

`dump` teacher-forces the same token sequences (the first documents of the naturalness text) through four paths
on the demo pair's Gemma file, base and organism: the first 1, 2, 3, 4 or 8 of them decoded together, each prompt in
one decode and then one token per sequence per decode (`batchN`, as generation does), and each whole text in one
decode with every position's logits (`prompt`, as scoring does). It keeps the rows of the same positions from each path,
and the topic probe's embeddings of a few prompts. `compare` prints, for each pair of paths (and for each path
across two dumps), the spread of the log-softmax difference per row and how often the greedy token parts.
Run it with another build's Python and PYTHONPATH set to the project (only numpy and llama_cpp are needed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.machine import cpu_line
from inspector.config import PROJECT_ROOT

DOCS, PREFIX, STEPS = 8, 8, 12  # sequences, prompt tokens decoded at once, then tokens fed one per decode
SIZES, KEPT = (1, 2, 3, 4, 8), 4  # sequences decoded together per path; rows kept of the first KEPT of them
PROBE_PROMPTS = [
    "Why do my AirPods only play in one ear?",
    "There's a python in the terrarium, is it healthy?",
    "How do I make lentil soup?",
    "Can a computer write poetry?",
]
Rows = npt.NDArray[np.float32]


def _texts(shared: Any) -> list[list[int]]:
    lines = (PROJECT_ROOT / "inspector" / "data" / "natural_text.jsonl").read_text().splitlines()[:DOCS]
    return [shared.tokenize(json.loads(line)["text"])[: PREFIX + STEPS] for line in lines]


def _stepwise(backend: Any, seqs: list[list[int]]) -> list[Rows]:
    """Each sequence's prefix in one decode, then its next tokens one per sequence per decode, all `seqs` in the
    same batches; the rows of positions PREFIX-1 .. PREFIX+STEPS-1, per sequence."""
    dctx = backend._dctx()
    out: list[list[Rows]] = [[] for _ in seqs]
    with dctx.lend(len(seqs), len(seqs) * (PREFIX + STEPS)) as ids, dctx.turn(backend.scale):
        dctx.batch.n_tokens = 0
        for s, toks in enumerate(seqs):
            for k in range(PREFIX):
                dctx.add(toks[k], k, ids[s], k == PREFIX - 1)
        dctx.run("dump")
        for s, row in enumerate(dctx.logits(len(seqs))):
            out[s].append(row.copy())
        for step in range(STEPS):
            dctx.batch.n_tokens = 0
            for s, toks in enumerate(seqs):
                dctx.add(toks[PREFIX + step], PREFIX + step, ids[s], True)
            dctx.run("dump")
            for s, row in enumerate(dctx.logits(len(seqs))):
                out[s].append(row.copy())
    return [np.stack(r) for r in out]


def _whole(backend: Any, toks: list[int]) -> Rows:
    """The whole text in one decode, every position's logits (the scoring path), rows from PREFIX-1 on."""
    rows: Rows = backend.decode_rows(toks, PREFIX - 1)
    return rows


def dump(out: Path) -> None:
    import llama_cpp

    from inspector.engine.batched import BatchedBackend
    from inspector.engine.weights import SharedModel

    os.environ.pop("INSPECTOR_LOGIT_JITTER", None)
    cache = PROJECT_ROOT / ".cache"
    gguf = next((cache / "models").glob("*.gguf"))  # assembled by the tests or `make run` (resolve_gguf)
    adapter = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
    shared = SharedModel(gguf, adapter)
    shared.acquire()  # kept open between the two sides' backends
    arrays: dict[str, Rows] = {}
    for role, use in (("base", False), ("organism", True)):
        b = BatchedBackend(shared, role=role, use_adapter=use, n_seq=8, ctx_per_seq=64)
        seqs = _texts(shared)
        paths = {f"batch{n}": _stepwise(b, seqs[:n])[:KEPT] for n in SIZES}
        paths["prompt"] = [_whole(b, s) for s in seqs[:KEPT]]
        for name, rows in paths.items():
            arrays[f"{role}/{name}"] = np.stack(rows)
        b.close()
    shared.release()
    llm = llama_cpp.Llama(
        str(gguf), embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, n_ctx=256, verbose=False
    )
    arrays["probe/embeddings"] = np.array([llm.embed(p) for p in PROBE_PROMPTS], dtype=np.float32)
    llm.close()
    np.savez(out, cpu=np.array(cpu_line()), **arrays)
    print(f"{cpu_line()}\nwrote {out}")


def _log_softmax(x: Rows) -> npt.NDArray[np.float64]:
    y = x.astype(np.float64)
    y -= y.max(axis=-1, keepdims=True)
    return y - np.log(np.exp(y).sum(axis=-1, keepdims=True))


def spread(a: Rows, b: Rows) -> dict[str, float]:
    """Per row: the standard deviation of the log-softmax difference over the vocabulary, the largest difference
    among a's 40 likeliest tokens; over rows: how often the greedy token parts, and the smallest greedy margin."""
    la, lb = _log_softmax(a.reshape(-1, a.shape[-1])), _log_softmax(b.reshape(-1, b.shape[-1]))
    d = la - lb
    std = d.std(axis=1)
    top = np.argsort(-la, axis=1)[:, :40]
    dt = np.take_along_axis(d, top, axis=1)
    top_d = np.abs(dt).max(axis=1)
    # What moves the sampler: the differences among the likely tokens, less their common shift.
    top_std = dt.std(axis=1)
    return {
        "top40_std_median": float(np.median(top_std)),
        "top40_std_max": float(top_std.max()),
        "rows": float(len(d)),
        "std_median": float(np.median(std)),
        "std_max": float(std.max()),
        "top40_max": float(top_d.max()),
        "greedy_parts": float((la.argmax(1) != lb.argmax(1)).mean()),
    }


def _line(name: str, s: dict[str, float]) -> str:
    return (
        f"{name:<40} rows {int(s['rows']):>3}  all: std median {s['std_median']:.4f} max {s['std_max']:.4f}"
        f"  top-40: std median {s['top40_std_median']:.4f} max {s['top40_std_max']:.4f}"
        f" largest {s['top40_max']:.4f}  greedy parts {s['greedy_parts']:.3f}"
    )


def _embed_line(name: str, a: Rows, b: Rows) -> str:
    rel = np.sqrt(((a - b) ** 2).mean(axis=1)) / np.sqrt((a**2).mean(axis=1))
    return f"{name:<44} prompts {len(a)}  difference / RMS: mean {rel.mean():.5f}  max {rel.max():.5f}"


def compare(files: list[Path]) -> None:
    dumps = [np.load(f) for f in files]
    for f, d in zip(files, dumps, strict=True):
        print(f"{f.name}: {d['cpu']}")
    first = dumps[0]
    names = sorted({k.split("/")[1] for k in first.files if "/" in k} - {"embeddings"})
    for role in ("base", "organism"):
        for p, q in itertools.combinations(names, 2):
            a, b = first[f"{role}/{p}"], first[f"{role}/{q}"]
            n = min(len(a), len(b))  # the sequences both paths decoded
            print(_line(f"{files[0].name} {role}: {p} vs {q}", spread(a[:n], b[:n])))
        for other, f in zip(dumps[1:], files[1:], strict=True):
            for p in names:
                s = spread(first[f"{role}/{p}"], other[f"{role}/{p}"])
                print(_line(f"{role} {p}: {files[0].name} vs {f.name}", s))
    for other, f in zip(dumps[1:], files[1:], strict=True):
        print(_embed_line(f"probe: {files[0].name} vs {f.name}", first["probe/embeddings"], other["probe/embeddings"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("files", type=Path, nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out)
    else:
        compare(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
