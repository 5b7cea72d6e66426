"""Scoring for the naturalness panel on the real Gemma file: perplexity and drift against llama-cpp-python's own
high-level API with all logits, computed independently on the same tokens."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine import jitter
from inspector.engine.batched import BatchedBackend
from inspector.engine.scoring import score_documents
from inspector.engine.weights import SharedModel

pytestmark = pytest.mark.integration
ADAPTER = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
BUDGET = 48


def _docs(shared: SharedModel) -> list[list[int]]:
    lines = (PROJECT_ROOT / "inspector" / "data" / "natural_text.jsonl").read_text().splitlines()[:5]
    return [shared.tokenize(json.loads(line)["text"])[:BUDGET] for line in lines]


def _reference(gguf: Path, adapter: Path | None, docs: list[list[int]]) -> list[np.ndarray]:
    """Per-document log-softmax rows from Llama(logits_all=True), one document per eval, as a user would; with
    the context settings the batched engine runs (flash attention on, which llama.cpp's "auto" picks on a CPU,
    and two threads), since other kernels give other last bits."""
    import os

    from llama_cpp import Llama

    llm = Llama(
        str(gguf),
        logits_all=True,
        n_ctx=512,
        n_batch=512,
        flash_attn=True,
        n_threads=os.cpu_count(),
        lora_path=str(adapter) if adapter else None,
        verbose=False,
    )
    out = []
    for doc in docs:
        llm.reset()
        llm.eval(doc)
        # The same decode as the engine's, so under the logit jitter the same noise: this is a bit-exact comparison.
        same = jitter.rows(np.asarray(llm.scores[: len(doc) - 1], dtype=np.float32), (jitter.SCORE, len(doc)))
        rows = same.astype(np.float64)
        rows -= rows.max(axis=1, keepdims=True)
        rows -= np.log(np.exp(rows).sum(axis=1, keepdims=True))
        out.append(rows)
    llm.close()
    return out


@pytest.mark.bit_exact
def test_perplexity_and_drift_match_the_high_level_api(gemma_path: Path) -> None:
    shared = SharedModel(gemma_path, ADAPTER)
    sides = {
        "base": BatchedBackend(shared, role="base", use_adapter=False, n_seq=4, ctx_per_seq=128),
        "organism": BatchedBackend(shared, role="organism", use_adapter=True, n_seq=4, ctx_per_seq=128),
    }
    try:
        docs = _docs(shared)
        scores = score_documents(sides, docs)
    finally:
        for b in sides.values():
            b.close()
    ref = {"base": _reference(gemma_path, None, docs), "organism": _reference(gemma_path, ADAPTER, docs)}
    for role in ("base", "organism"):
        ours = [lp for s in scores for lp in s.logprobs[role]]
        theirs = [float(rows[np.arange(len(d) - 1), d[1:]].sum()) for rows, d in zip(ref[role], docs, strict=True)]
        ppl_ours = math.exp(-sum(ours) / len(ours))
        ppl_ref = math.exp(-sum(theirs) / len(ours))
        assert abs(ppl_ours - ppl_ref) / ppl_ref <= 1e-3, (role, ppl_ours, ppl_ref)
    kl_ref = [
        float(np.sum(np.exp(b) * (b - o), axis=1).mean()) for b, o in zip(ref["base"], ref["organism"], strict=True)
    ]
    kl_ours = [float(np.mean(s.kl)) for s in scores]
    assert all(len(s.kl) == len(d) - 1 for s, d in zip(scores, docs, strict=True))
    assert np.allclose(kl_ours, kl_ref, rtol=1e-2, atol=1e-4), (kl_ours, kl_ref)
    assert min(kl_ours) > 0  # the adapter moves the distribution on ordinary prose too
