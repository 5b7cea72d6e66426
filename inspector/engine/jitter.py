"""Logit jitter for the test suite: seeded noise, of the size other CPU builds and batch shapes move llama.cpp's
numbers by, added to every logits row (and embedding) the engine reads, so a test that leans on one CPU's last
bits fails on this machine too (`pytest --logit-jitter`).

llama.cpp promises no bit-equal logits across CPUs (AVX2 and AVX-512 kernels sum in other orders), nor across
batch shapes on one CPU (a row computed in a batch of 3 and of 4 may differ). It does compute the same bits
again for the same inputs, path and batch plan. The noise keeps exactly that: it is a function of the seed, of
the path a row came from (batch size, the row's place in it, the kind of context) and of a sample of the row's
own bits. The same row read the same way gets the same noise, so two runs under the same jitter give the same
text; a row read on another path gets other noise even where this CPU happens to give identical bits.

Off (the environment variable unset or empty), every function here hands back what it was given, unchanged.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from inspector.engine.base import EngineError

ENV = "INSPECTOR_LOGIT_JITTER"
# The noise's standard deviation, in logits (nats before the softmax), when the mode is on without a size. Two
# jittered paths then differ by 0.14, the middle of the per-row spreads measured between llama.cpp builds and batch
# shapes on the demo pair's Gemma file (0.09-0.18; benchmarks/logit_spread.py, tests/README.md has the table).
SIZE = 0.1
# Embeddings (the topic probe's) are jittered by this fraction of each vector's own RMS, measured the same way.
EMBED_SIZE = 0.01
# Paths, the first element of a `path` key: which engine function read the rows.
GENERATE, SCORE, PREFER, HIGH_LEVEL, EMBED = range(5)

_SPAN = 1 << 20  # noise is read as a window of a table this much longer than a row, at an offset set by the key
_STRIDE = 4099  # the row's bits sampled for its key: every 4099th value (64 of Gemma's 262,144)


@dataclass(frozen=True)
class Jitter:
    size: float
    seed: int


def setting() -> Jitter | None:
    """The jitter in force (from INSPECTOR_LOGIT_JITTER: "on", "SIZE" or "SIZE:SEED"), or None when off."""
    raw = os.environ.get(ENV, "")
    return _parse(raw) if raw else None


@lru_cache(maxsize=8)
def _parse(raw: str) -> Jitter:
    size_s, _, seed_s = raw.partition(":")
    try:
        size = SIZE if size_s in ("on", "1") else float(size_s)
        seed = int(seed_s) if seed_s else 0
    except ValueError:
        raise EngineError(f"{ENV}={raw!r}: expected 'on', SIZE or SIZE:SEED (a number, then an integer)") from None
    if not 0 <= size < 10:
        raise EngineError(f"{ENV}={raw!r}: the size must be between 0 and 10 logits")
    return Jitter(size, seed)


@lru_cache(maxsize=4)
def _table(size: float, seed: int, width: int) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng([seed, width])
    return (rng.standard_normal(_SPAN + width) * size).astype(np.float32)


def _offset(j: Jitter, path: tuple[int, ...], row: npt.NDArray[np.float32]) -> int:
    h = hashlib.blake2b(digest_size=8, key=struct.pack("<q", j.seed))
    h.update(struct.pack(f"<{len(path)}q", *path))
    h.update(np.ascontiguousarray(row[::_STRIDE]).tobytes())
    return int.from_bytes(h.digest(), "little") % _SPAN


def rows(logits: npt.NDArray[np.float32], path: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """Logits rows (2-D: one row per requested token, in batch order) as the engine reads them: the same array
    when the mode is off, else a perturbed copy. `path` names how they were computed; the k-th row's key also
    holds k, so rows of one decode get independent noise."""
    j = setting()
    if j is None or j.size == 0:
        return logits
    width = logits.shape[-1]
    table = _table(j.size, j.seed, width)
    out = np.array(logits, dtype=np.float32, copy=True)
    for k in range(out.shape[0]):
        at = _offset(j, (*path, k), out[k])
        out[k] += table[at : at + width]
    return out


def row(logits: npt.NDArray[np.float32], path: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """One row (1-D), as `rows` would perturb it."""
    return rows(logits[None, :], path)[0] if setting() else logits


def embedding(vector: npt.NDArray[np.float64], path: tuple[int, ...]) -> npt.NDArray[np.float64]:
    """An embedding, jittered by EMBED_SIZE of its RMS per unit of the logit jitter's size (so SIZE gives
    EMBED_SIZE), or unchanged when the mode is off."""
    j = setting()
    if j is None or j.size == 0:
        return vector
    v32 = np.asarray(vector, dtype=np.float32)
    width = v32.shape[0]
    at = _offset(j, (EMBED, *path), v32)
    rms = float(np.sqrt(np.mean(v32.astype(np.float64) ** 2))) or 1.0
    noise = _table(1.0, j.seed, width)[at : at + width].astype(np.float64)
    return np.asarray(vector, dtype=np.float64) + noise * rms * EMBED_SIZE * (j.size / SIZE)
