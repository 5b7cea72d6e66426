"""Character seeds for finding copies: text folded to its letters and digits, hashed k-grams of it, and a sample of
them chosen by content alone, so a copy and its source choose the same seeds wherever noise left them intact."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

K = 7  # folded characters per seed: about a word and a half, so one typo breaks few seeds
EVERY = 3  # one seed in three is kept, chosen by content
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_P = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
# Spaces and punctuation are dropped before hashing: a space inserted into a word or removed between two
# changes no seed, and a character dropped or changed breaks only the k seeds that cover it.
_ASCII_KEEP = np.array([chr(c).isalnum() for c in range(128)], dtype=bool)


def fold(text: str) -> tuple[npt.NDArray[np.uint32], I64]:
    """The lowercased letters and digits of `text` as code points, and each one's offset in `text`."""
    low = text.lower()
    if len(low) != len(text):  # a few characters lowercase to two ("İ"): keep offsets one-to-one
        low = "".join(c.lower()[0] for c in text)
    cps = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32)
    keep = np.zeros(len(cps), dtype=bool)
    small = cps < 128
    keep[small] = _ASCII_KEEP[cps[small]]
    if not small.all():
        wide = np.nonzero(~small)[0]
        keep[wide] = [low[i].isalnum() for i in wide.tolist()]
    at = np.nonzero(keep)[0].astype(np.int64)
    return cps[at], at


def kgram_hashes(cps: npt.NDArray[np.uint32], k: int) -> U64:
    """A hash of every run of k folded characters (wrapping uint64 arithmetic is the point)."""
    if len(cps) < k:
        return np.zeros(0, dtype=np.uint64)
    u = cps.astype(np.uint64)
    n = len(cps) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _P + u[j : n + j]
        h = (h ^ (h >> np.uint64(31))) * _MIX
        h ^= h >> np.uint64(29)
    return h


def chosen(hashes: U64, every: int) -> npt.NDArray[np.bool_]:
    """About one k-gram in `every`, chosen by its own hash: the same k-gram is chosen in the copy and the source."""
    keep: npt.NDArray[np.bool_] = (hashes % np.uint64(every)) == 0
    return keep
