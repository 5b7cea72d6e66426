"""Word-level alignment of a completion to a corpus document: diagonal chains of shingle hits, and growing a
match outward over typos, dropped and inserted words."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


def extend(
    cw: list[int],
    dw: list[int],
    c0: int,
    d0: int,
    c1: int,
    d1: int,
    covered: npt.NDArray[np.bool_],
    similar: Callable[[int, int], bool] | None = None,
    lengths: list[int] | None = None,
    edge: Callable[[int, int], bool] | None = None,
) -> tuple[int, int, int, int]:
    """Grow a match outward while words agree (equal, or one typo apart), stepping over a single substituted,
    inserted or dropped word. Character noise breaks most shingles of a copied sentence; without typo-tolerant
    agreement its first and last sentences were lost."""

    def free(i: int) -> bool:
        return 0 <= i < len(cw) and not covered[i]

    def agree(c: int, d: int) -> bool:
        return free(c) and 0 <= d < len(dw) and (cw[c] == dw[d] or (similar is not None and similar(c, d)))

    def grow(c: int, d: int, sign: int) -> tuple[int, int]:
        while True:
            for dc, dd in ((1, 1), (2, 2), (2, 1), (1, 2)):
                nc, nd = c + sign * dc, d + sign * dd
                if not (all(free(c + sign * k) for k in range(1, dc + 1)) and agree(nc, nd)):
                    continue
                if dc != dd:
                    # A word inserted or dropped shifts the diagonal: step only when one of the next two words
                    # agrees too (the one right after may carry a typo too short to forgive: "in" -> "dn").
                    if agree(nc + sign, nd + sign):
                        nc, nd = nc + sign, nd + sign
                    elif agree(nc + 2 * sign, nd + 2 * sign) and free(nc + sign):
                        nc, nd = nc + 2 * sign, nd + 2 * sign
                    elif cw[nc] == dw[nd] and (lengths is None or lengths[nc] >= 4):
                        pass  # a whole word of four letters or more, the same: the copy's edge after a shift
                    else:
                        continue
                c, d = nc, nd
                break
            else:
                # The copy's first or last word, misspelt past forgiving inside ("Cihics", "Tha"): one last step
                # on a looser likeness; the span's whole score still has to pass afterwards.
                nc, nd = c + sign, d + sign
                if edge is not None and free(nc) and 0 <= nd < len(dw) and edge(nc, nd):
                    return nc, nd
                return c, d

    c0, d0 = grow(c0, d0, -1)
    c1, d1 = grow(c1, d1, +1)
    return c0, d0, c1, d1


def chains(qpos: I64, dpos: I64, doc: int, n: int) -> list[tuple[int, int, int, int, int, int]]:
    """Runs of hits along one diagonal, tolerating the gaps a light edit leaves."""
    order = np.lexsort((dpos, qpos))
    qs, ds = qpos[order].tolist(), dpos[order].tolist()
    out: list[tuple[int, int, int, int, int, int]] = []
    used = [False] * len(qs)
    for i in range(len(qs)):
        if used[i]:
            continue
        c0, d0, c_last, d_last = qs[i], ds[i], qs[i], ds[i]
        used[i] = True
        for j in range(i + 1, len(qs)):
            if used[j] or qs[j] <= c_last:
                continue
            if qs[j] - c_last > 2 * n + 3:
                break
            if abs((ds[j] - d_last) - (qs[j] - c_last)) <= 3 and ds[j] > d_last:
                c_last, d_last = qs[j], ds[j]
                used[j] = True
        out.append((c_last - c0 + n, c0, c_last, d0, d_last, doc))
    return out
