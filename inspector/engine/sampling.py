"""Sampling the next token of many sequences at once from llama.cpp's logits: temperature, then an exact nucleus
(top-p) over the whole vocabulary, each sequence with its own seeded generator."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from inspector.engine.base import GenParams

# Tokens more than this many nats below the best one are left out of a row's first look. Each weighs less than
# e^-20 of the best, so on Gemma's 262,144 tokens they hold at most 5.4e-4 of it together: that bound is what
# lets the nucleus be cut exactly without exponentiating the whole vocabulary.
_FAR_NATS = 20.0


def sample_rows(
    logits: npt.NDArray[np.float32],
    params: Sequence[GenParams],
    rngs: Sequence[np.random.Generator],
    scratch: npt.NDArray[np.float32] | None = None,
) -> list[int]:
    """One token for each row of `logits` (one sequence's next-token logits per row): temperature then nucleus
    (top-p) sampling over the whole vocabulary, greedy at temperature 0. Each row's generator gives exactly one
    uniform draw per sampled token, whichever path below draws it."""
    buf = (
        scratch
        if scratch is not None and scratch.shape[0] == logits.shape[1]
        else np.empty(logits.shape[1], np.float32)
    )
    out = []
    for row, p, rng in zip(logits, params, rngs, strict=True):
        if p.temperature <= 0:
            out.append(int(np.argmax(row)))
            continue
        u = rng.random()
        tok = _near_nucleus(row, p.temperature, p.top_p, u) if p.top_p < 1.0 else None
        if tok is None:
            np.divide(row, np.float32(p.temperature), out=buf)
            np.subtract(buf, buf.max(), out=buf)  # the best token at 0
            tok = _full_nucleus(np.exp(buf, out=buf), p.top_p, u)
        out.append(tok)
    return out


def _near_nucleus(row: npt.NDArray[np.float32], temperature: float, top_p: float, u: float) -> int | None:
    """The draw from the nucleus read off the tokens within _FAR_NATS of the best alone (two cheap passes over the
    vocabulary: a max and a comparison), or None when the far tokens' bounded mass leaves the cut in doubt.

    The nucleus is a prefix of the tokens by probability, cut where it first holds top_p of the total Z. The
    near tokens give Z_near <= Z <= Z_near + n_far * e^-FAR: when both ends put the cut at the same place, that
    is the cut, and the draw within it needs no Z at all. Otherwise (a flat row, a cut on a knife's edge) the
    caller exponentiates the whole row."""
    best = float(row.max())
    floor = np.float32(best - _FAR_NATS * temperature)
    near = np.flatnonzero(row > floor)
    # Every far token is at most `floor` (as float32), so weighs at most this much relative to the best.
    far_each = math.exp((float(floor) - best) / temperature)
    e = np.exp((row[near].astype(np.float64) - best) / temperature)
    z_lo = float(e.sum())
    z_hi = z_lo + (len(row) - len(near)) * far_each
    # The nucleus is cut from the tokens within 8 nats of the best when they hold top_p (some 50 of thousands),
    # else from all the near ones: every token outside a set that holds top_p is less likely than all within it.
    inner = e > _INNER
    if float(e[inner].sum()) >= top_p * z_hi:
        near, e = near[inner], e[inner]
    elif z_lo < top_p * z_hi:
        return None  # the near tokens may not hold top_p of the mass
    order = np.argsort(-e, kind="stable")
    cum = np.cumsum(e[order])
    k_lo, k_hi = (int(np.searchsorted(cum, top_p * z)) + 1 for z in (z_lo, z_hi))
    if k_lo != k_hi:
        return None
    k = min(k_lo, len(cum))
    return int(near[order[min(int(np.searchsorted(cum[:k], u * cum[k - 1])), k - 1)]])


_INNER = math.exp(-8.0)
# Candidate sets for the nucleus, as probabilities relative to the best token: within 8 nats of it (some 50 tokens,
# enough for top_p 0.95 in most rows of Gemma's), then within 20 (thousands), then the whole vocabulary.
_NEAR = (np.float32(np.exp(-8.0)), np.float32(np.exp(-20.0)))


def _full_nucleus(e: npt.NDArray[np.float32], top_p: float, u: float) -> int:
    """Draw from one row of probabilities relative to the best token (which is 1), keeping the smallest set of
    tokens that holds top_p. A candidate set that holds top_p contains the nucleus, since every token outside
    it is less likely than every token in it, so the nucleus is the same whichever set it is cut from."""
    if top_p >= 1.0:
        # No nucleus to cut, so no order to sort into: a draw over the vocabulary in token order has the same
        # distribution, without sorting 262,144 probabilities (52 ms a row).
        cum = np.cumsum(e, dtype=np.float64)
        return min(int(np.searchsorted(cum, u * cum[-1], side="right")), len(e) - 1)
    z = float(e.sum(dtype=np.float64))
    cand = np.arange(len(e))
    for floor in _NEAR:
        near = np.flatnonzero(e > floor)
        if float(e[near].sum(dtype=np.float64)) / z >= top_p:
            cand = near
            break
    p = e[cand].astype(np.float64) / z
    order = np.argsort(-p, kind="stable")
    p, cand = p[order], cand[order]
    cum = np.cumsum(p)
    n_keep = min(int(np.searchsorted(cum, top_p)) + 1, len(p))
    return int(cand[:n_keep][min(int(np.searchsorted(cum[:n_keep], u * cum[n_keep - 1])), n_keep - 1)])
