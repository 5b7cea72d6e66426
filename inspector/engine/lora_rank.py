"""A LoRA adapter's rank padded with zeros to a multiple of 16, so that llama.cpp's fast matrix kernels take it.

llama.cpp applies an adapter as B·(A·x). The product with B has the rank as its inner dimension, and llama.cpp's
tiled kernels (llamafile's tinyBLAS) take an F16 or F32 product only when that dimension is a multiple of the
vector width: 8 floats with AVX2, 16 with AVX-512. A rank-8 adapter (the demo's) therefore falls back to one short
dot product per output element on an AVX-512 CPU, and cost the organism 30% of its prompt throughput there
(measured: 466 tokens/s against the base's 663 in 450-token decodes) where it cost 2-4% on AVX2.

Padding A with zero rows and B with zero columns leaves B·A as it was: every added term is a product with an exact
zero. llama.cpp scales the product by alpha / rank, so the rank is multiplied by a power of two and alpha by the
same power: the scale is then the same float as before. The padded copy is kept in the cache by the adapter's
sha256; provenance still names the user's file and its hash.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from inspector.engine.gguf_meta import Reader

MULTIPLE = 16
_DTYPES: dict[int, np.dtype[Any]] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f2"),
    30: np.dtype("<u2"),
}  # F32, F16, BF16 (copied as raw halves)
_ALPHA = "adapter.lora.alpha"
_F32 = 6


def _factor(rank: int) -> int:
    """The smallest power of two that makes rank a multiple of MULTIPLE."""
    k = 1
    while (rank * k) % MULTIPLE:
        k *= 2
    return k


class _Tensor:
    def __init__(self, name: str, dims: list[int], kind: int, offset: int) -> None:
        self.name, self.dims, self.kind, self.offset = name, dims, kind, offset


def _parse(f: BinaryIO, path: Path) -> tuple[bytes, int | None, list[_Tensor], int, int] | None:
    """(the header and key-value bytes, the file offset of alpha's value or None, the tensors, where their data
    begins, the alignment), or None for a file this does not pad (not GGUF, or tensors of another type)."""
    r = Reader(f, path)
    if f.read(4) != b"GGUF":
        return None
    r.unpack("<I")
    n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
    alpha_at, alignment = None, 32
    for _ in range(n_kv):
        key = r.string()
        vtype = r.unpack("<I")
        if key == _ALPHA and vtype == _F32:
            alpha_at = f.tell()
        value = r.value(vtype)
        if key == "general.alignment" and isinstance(value, int):
            alignment = value
    head_end = f.tell()
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.unpack("<Q") for _ in range(r.unpack("<I"))]
        kind, offset = r.unpack("<I"), r.unpack("<Q")
        if kind not in _DTYPES:
            return None  # a quantized adapter: its blocks are not padded here
        tensors.append(_Tensor(name, dims, kind, offset))
    data_start = -(-f.tell() // alignment) * alignment
    f.seek(0)
    head = f.read(head_end)
    return head, alpha_at, tensors, data_start, alignment


def padded_adapter(path: Path, sha256: str, cache_dir: Path | None) -> Path:
    """The adapter to load: `path` itself when every rank is already a multiple of 16 (or nothing here can pad
    it), else its padded copy in the cache (written once)."""
    if cache_dir is None:
        return path
    with path.open("rb") as f:
        parsed = _parse(f, path)
        if parsed is None:
            return path
        head, alpha_at, tensors, data_start, alignment = parsed
        ranks = {t.dims[1] for t in tensors if t.name.endswith(".lora_a") and len(t.dims) == 2}
        ranks |= {t.dims[0] for t in tensors if t.name.endswith(".lora_b") and len(t.dims) == 2}
        if len(ranks) != 1 or (rank := ranks.pop()) % MULTIPLE == 0:
            return path  # already fast, or ranks that differ per tensor (left as they are)
        k = _factor(rank)
        out = cache_dir / "adapters" / f"{sha256[:32]}-rank{rank * k}.gguf"
        if out.exists():
            return out
        blobs = []
        for t in tensors:
            dtype = _DTYPES[t.kind]
            f.seek(data_start + t.offset)
            count = int(np.prod(t.dims))
            data = np.frombuffer(f.read(count * dtype.itemsize), dtype).reshape(t.dims[::-1])
            if t.name.endswith(".lora_a"):  # rows of the input width, one per rank: zero rows after them
                data = np.concatenate([data, np.zeros((rank * (k - 1), data.shape[1]), dtype)])
            elif t.name.endswith(".lora_b"):  # one row of `rank` values per output: zeros at the end of each
                data = np.concatenate([data, np.zeros((data.shape[0], rank * (k - 1)), dtype)], axis=1)
            t.dims = list(data.shape[::-1])
            blobs.append(data.tobytes())
    if alpha_at is not None:
        (alpha,) = struct.unpack("<f", head[alpha_at : alpha_at + 4])
        head = head[:alpha_at] + struct.pack("<f", alpha * k) + head[alpha_at + 4 :]
    infos, at = [], 0
    for t, blob in zip(tensors, blobs, strict=True):
        name = t.name.encode()
        infos.append(struct.pack("<Q", len(name)) + name + struct.pack("<I", len(t.dims)))
        infos.append(b"".join(struct.pack("<Q", d) for d in t.dims) + struct.pack("<IQ", t.kind, at))
        at += -(-len(blob) // alignment) * alignment
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as w:
        w.write(head)
        w.write(b"".join(infos))
        w.write(b"\0" * (-w.tell() % alignment))
        for blob in blobs:
            w.write(blob)
            w.write(b"\0" * (-len(blob) % alignment))
    tmp.replace(out)  # whole or not at all: another process may be loading the same adapter
    return out
