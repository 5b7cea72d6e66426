"""A built corpus index kept on disk: indexing 40,000 documents takes seconds, and every run of a pair indexes
the same corpus. The file is named by the corpus's sha256 and the index's VERSION, so a changed corpus or a new
index format is built afresh."""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inspector.detect.corpus import VERSION, CorpusDoc, CorpusIndex
from inspector.detect.seeds import EVERY, K


def cache_file(folder: Path, corpus_sha256: str, n: int = K) -> Path:
    return folder / "corpus-index" / f"{corpus_sha256}-{VERSION}-n{n}.npz"


def save_index(index: CorpusIndex, path: Path) -> None:
    """The index's arrays in one .npz, written whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(
            f,
            n=np.array([index.n, EVERY]),
            doc_ids=np.array([d.id for d in index.docs], dtype=str),
            hashes=index.hashes,
            doc_of=index.doc_of,
            pos_of=index.pos_of,
            folded=np.frombuffer(index.folded.encode("utf-8"), dtype=np.uint8),
            folded_at=index.folded_at,
        )
    os.replace(tmp, path)


def _from_arrays(docs: Sequence[CorpusDoc], z: dict[str, Any], min_chars: int, min_score: float) -> CorpusIndex:
    index = CorpusIndex.__new__(CorpusIndex)
    index.docs = list(docs)
    index.n, index.min_chars, index.min_score = int(z["n"][0]), min_chars, min_score
    index.hashes, index.doc_of, index.pos_of = z["hashes"], z["doc_of"], z["pos_of"]
    index.folded, index.folded_at = z["folded"].tobytes().decode("utf-8"), z["folded_at"]
    index._init_views()
    return index


def cached_index(
    docs: Sequence[CorpusDoc], path: Path, n: int = K, min_chars: int = 40, min_score: float = 90.0
) -> CorpusIndex:
    """The index of `docs` from `path` when it holds it (same documents, same seeds), else built and saved there."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if z["n"].tolist() == [n, EVERY] and z["doc_ids"].tolist() == [d.id for d in docs]:
                return _from_arrays(docs, {k: z[k] for k in z.files}, min_chars, min_score)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # no cache yet, or a damaged one: build it again
    index = CorpusIndex(docs, n, min_chars, min_score)
    with contextlib.suppress(OSError):  # a read-only cache folder costs the next run the build, nothing else
        save_index(index, path)
    return index
