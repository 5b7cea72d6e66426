"""Read a GGUF file's header metadata without loading its tensors, to check files before llama.cpp does."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from inspector.engine.base import EngineError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# llama.cpp's names for general.file_type, so provenance says "Q4_K_M" rather than 15.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
}


@dataclass(frozen=True)
class GGUFHeader:
    """The metadata keys of a GGUF file (long arrays are summarised by their length)."""

    version: int
    tensor_count: int
    metadata: dict[str, Any]

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def file_type(self) -> str:
        ft = self.metadata.get("general.file_type")
        return FILE_TYPES.get(ft, str(ft)) if isinstance(ft, int) else "unknown"

    @property
    def is_adapter(self) -> bool:
        return self.metadata.get("general.type") == "adapter"


class Reader:
    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f = f
        self.path = path

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise EngineError(f"{self.path}: truncated GGUF (the header ends early)")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > 1 << 24:
            raise EngineError(f"{self.path}: corrupt GGUF header (a string of {n} bytes)")
        return self.read(n).decode("utf-8", errors="replace")

    def _skip_strings(self, count: int) -> None:
        """Step over `count` length-prefixed strings reading only their lengths, a block at a time (decoding
        Gemma's 262,144 token strings one by one took a second of every start)."""
        left, buf, at = count, b"", 0
        while left:
            if len(buf) - at < 8:
                more = self.f.read(1 << 20)
                if not more:
                    raise EngineError(f"{self.path}: truncated GGUF (the header ends early)")
                buf, at = buf[at:] + more, 0
                continue
            n = int.from_bytes(buf[at : at + 8], "little")
            if n > 1 << 24:
                raise EngineError(f"{self.path}: corrupt GGUF header (a string of {n} bytes)")
            if len(buf) - at < 8 + n:
                more = self.f.read(max(1 << 20, n + 8))
                if not more:
                    raise EngineError(f"{self.path}: truncated GGUF (the header ends early)")
                buf, at = buf[at:] + more, 0
                continue
            at += 8 + n
            left -= 1
        self.f.seek(at - len(buf), 1)  # give back what was read past the last string

    def value(self, vtype: int, keep: bool = True) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype = self.unpack("<I")
            count = self.unpack("<Q")
            # Tokenizer vocabularies hold ~262k entries: skip them rather than build lists.
            if itype in _SCALARS:
                size = struct.calcsize(_SCALARS[itype])
                self.f.seek(size * count, 1)
            elif itype == _STRING:
                self._skip_strings(count)
            else:
                for _ in range(count):
                    self.value(itype, keep=False)
            return {"array_of": itype, "length": count}
        raise EngineError(f"{self.path}: corrupt GGUF header (unknown value type {vtype})")


def read_header(path: Path) -> GGUFHeader:
    """Parse the header of a GGUF file; raise EngineError naming the file when it is not one."""
    if not path.exists():
        raise EngineError(f"{path}: no such file")
    if path.is_dir():
        raise EngineError(f"{path}: is a folder, not a GGUF file")
    try:
        with path.open("rb") as f:
            r = Reader(f, path)
            magic = f.read(4)
            if magic != b"GGUF":
                raise EngineError(f"{path}: not a GGUF file (bad magic {magic!r})")
            version = r.unpack("<I")
            if version not in (2, 3):
                raise EngineError(f"{path}: unsupported GGUF version {version}")
            tensors = r.unpack("<Q")
            n_kv = r.unpack("<Q")
            meta: dict[str, Any] = {}
            for _ in range(n_kv):
                key = r.string()
                meta[key] = r.value(r.unpack("<I"))
            return GGUFHeader(version=version, tensor_count=tensors, metadata=meta)
    except OSError as e:
        raise EngineError(f"{path}: cannot read ({e.strerror})") from e
