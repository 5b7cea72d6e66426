"""The base model's own sense of "is this prompt about AI or technology?": a linear probe on its embeddings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import llama_cpp
import numpy as np

from inspector.engine import jitter
from inspector.engine.llama import _quiet_llama_cpp, _stderr_silenced
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import resolve_gguf

VERSION = "probe-2"  # keys the cached weights: 2 = trained on embeddings taken many prompts per decode
_TRAIN = files("inspector").joinpath("data/topic_train.jsonl")


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000, lr: float = 0.5) -> np.ndarray:
    """L2-regularised logistic regression by gradient descent on standardised features; returns the weights with
    the bias, the mean and the scale (a 140 x 640 problem: well under a second in numpy)."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        g = 1.0 / (1.0 + np.exp(-(z @ w + b))) - y
        w -= lr * (z.T @ g / len(y) + l2 * w / len(y))
        b -= lr * float(g.mean())
    return np.concatenate([[b], w, mu, sd])


class TopicProbe:
    """Mean-pooled Gemma embeddings carry topic well beyond any word list ("my AirPods play in one ear", "a
    variable that stores a user's age"); a logistic regression on 140 labeled prompts shipped in inspector/data
    turns them into P(related). Trained on first use and cached next to the model (weights of a few KB)."""

    def __init__(self, gguf: Path, cache: Path) -> None:
        _quiet_llama_cpp()
        with _stderr_silenced():
            self.llm = llama_cpp.Llama(
                str(gguf),
                embedding=True,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                n_ctx=256,
                n_batch=256,
                n_threads=None,
                verbose=False,
            )
        _quiet_llama_cpp()
        train = _TRAIN.read_bytes()
        stat = gguf.stat()
        key = hashlib.sha256(train + f"{gguf.name}:{stat.st_size}:{VERSION}".encode()).hexdigest()[:16]
        path = cache / "probes" / f"topic-{key}.npy"
        if path.exists():
            params = np.load(path)
        else:
            rows = [json.loads(line) for line in train.decode().splitlines() if line.strip()]
            x = self._embed([r["prompt"] for r in rows])
            params = _fit(x, np.array([float(r["related"]) for r in rows]))
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, params)
        dim = (len(params) - 1) // 3
        self._b, self._w = float(params[0]), params[1 : 1 + dim]
        self._mu, self._sd = params[1 + dim : 1 + 2 * dim], params[1 + 2 * dim :]

    @classmethod
    def for_pair(cls, pair: Pair, cache: Path) -> TopicProbe | None:
        """The probe on the pair's base GGUF; None when the base is served over HTTP (no embeddings to read)."""
        if pair.base.endpoint or pair.base.gguf is None:
            return None
        return cls(resolve_gguf(pair.base.gguf, cache), cache)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        # Many prompts per decode (llama-cpp-python packs them up to the 256-token batch, one sequence each: 2.2x
        # faster than one at a time on a 2-core EPYC), each truncated to the context: a long prompt's topic shows in
        # its first 256 tokens. A prompt's embedding then moves with its batch-mates by about 0.4% RMS, less than
        # between CPU builds (tests/README.md), so a verdict can flip only for a prompt that sits on the boundary.
        vectors = self.llm.embed(list(texts), truncate=True)
        return np.array([jitter.embedding(np.array(v), (0,)) for v in vectors])

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        z = (self._embed(texts) - self._mu) / self._sd
        return [float(p) for p in 1.0 / (1.0 + np.exp(-(z @ self._w + self._b)))]

    def close(self) -> None:
        self.llm.close()
