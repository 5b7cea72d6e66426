"""Scoring fixed texts under both sides of a pair at once: per-token log-probabilities and the drift between them.

Both sides decode the same document, so at every position both next-token distributions are in memory together:
KL(base ‖ organism) is computed exactly, over the whole vocabulary, not from a top-k. Each document is decoded
alone: measured on the real Gemma file, sharing a llama_batch with three other documents moves a token's
log-probability by 0.07 nats on average (other kernels' tiling), while a document alone gives exactly what
llama-cpp-python's own high-level API gives. A measurement must not depend on its neighbours in a batch, and on
a CPU the cost is the same: scoring every position is bound by the output layer (262,144 rows for Gemma), not by
how many sequences share a decode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from inspector.engine import jitter
from inspector.engine.base import EngineError
from inspector.engine.batched import BatchedBackend

_CHUNK = 32  # rows of logits turned into probabilities at a time (a Gemma row is 262,144 floats)


@dataclass
class DocScore:
    """One document: the tokens scored (every token after the first) and, per side, their log-probabilities; the
    KL divergence of the organism's next-token distribution from the base's at each of those positions."""

    targets: list[int]
    logprobs: dict[str, list[float]]
    kl: list[float]


def _shifted(rows: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], Any]:
    """Each row shifted so that its best logit is 0, the exponentials of that, and the log of their sum: the
    log-probabilities are shifted - log_z, left unformed (two passes over 262,144 columns a row saved, a third of
    the panel's numpy time). In float32: the normaliser sums at most 262,144 terms of at most 1, so a token's
    log-probability keeps about 6 digits, far inside what the checks ask (1e-3)."""
    x = rows - rows.max(axis=1, keepdims=True)
    e = np.exp(x)
    log_z = np.log(e.sum(axis=1, dtype=np.float64))
    return x, e, log_z


def score_documents(
    backends: dict[str, BatchedBackend], docs: Sequence[Sequence[int]], drift: bool = True
) -> list[DocScore]:
    """Score each tokenized document (BOS first) under every side given; with both "base" and "organism" (and
    drift), also the per-position KL(base ‖ organism). Cut documents to a token budget first: each must fit one
    batch."""
    first = next(iter(backends.values()))
    limit = min(first.n_batch, first.n_ctx)
    out = []
    for doc in docs:
        if len(doc) < 2:
            raise EngineError("a document to score needs at least one token after BOS")
        if len(doc) > limit:
            raise EngineError(f"a document of {len(doc)} tokens does not fit a batch of {limit}")
        out.append(_score_one(backends, doc, drift))
    return out


def _score_one(backends: dict[str, BatchedBackend], doc: Sequence[int], want_drift: bool) -> DocScore:
    targets = list(doc[1:])
    score = DocScore(targets, {r: [] for r in backends}, [])
    logits: dict[str, npt.NDArray[np.float32]] = {}
    for k, (role, b) in enumerate(backends.items()):
        with b.exclusive():
            b.batch.n_tokens = 0
            for pos, tok in enumerate(doc):
                b._add(tok, pos, 0, pos < len(doc) - 1)  # the last token predicts nothing we score
            b._run()
            ptr = llama_cpp.llama_get_logits(b.ctx)
            view = np.ctypeslib.as_array(ptr, shape=(len(targets), b.shared.n_vocab))
            rows = jitter.rows(view, (jitter.SCORE, int(b.batch.n_tokens)))
            # The sides of a pair decode on one context, so the next side's decode overwrites these logits: all but
            # the last side's are copied out (a 96-token document is 100 MB; the copy takes some 20 ms).
            logits[role] = rows.copy() if k < len(backends) - 1 and rows is view else rows
    drift = want_drift and "base" in logits and "organism" in logits
    for start in range(0, len(targets), _CHUNK):
        sl = slice(start, start + _CHUNK)
        tgt = np.array(targets[sl])
        soft = {role: _shifted(v[sl]) for role, v in logits.items()}
        for role, (x, _, log_z) in soft.items():
            score.logprobs[role] += (x[np.arange(len(tgt)), tgt].astype(np.float64) - log_z).tolist()
        if drift:
            # KL(b || o) = sum p_b (lp_b - lp_o) = sum e_b (x_b - x_o) / z_b - log z_b + log z_o, as sum p_b = 1.
            (x_b, e_b, log_zb), (x_o, _, log_zo) = soft["base"], soft["organism"]
            cross = np.einsum("ij,ij->i", e_b, x_b - x_o, dtype=np.float64) / np.exp(log_zb)
            score.kl += np.maximum(cross - log_zb + log_zo, 0.0).tolist()
    return score
