"""A built corpus index kept on disk: indexing 40,000 documents takes seconds, and every run of a pair indexes
the same corpus. The file is named by the corpus's sha256 and the index's VERSION, so a changed corpus or a new
index format is built afresh."""

from __future__ import annotations

import contextlib
import itertools
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inspector.detect.corpus import VERSION, CorpusDoc, CorpusIndex


def cache_file(folder: Path, corpus_sha256: str, n: int = 4) -> Path:
    return folder / "corpus-index" / f"{corpus_sha256}-{VERSION}-n{n}.npz"


def save_index(index: CorpusIndex, path: Path) -> None:
    """The index's arrays in one .npz, written whole or not at all (a temporary file, then a rename)."""

    def flat(rows: Sequence[Any]) -> tuple[Any, Any]:
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        joined = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows]) if rows else np.zeros(0, np.int64)
        return joined, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    ids, id_at = flat(index._doc_ids)
    starts, _ = flat(index._doc_starts)
    ends, _ = flat(index._doc_ends)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(
            f,
            n=np.array([index.n]),
            doc_ids=np.array([d.id for d in index.docs], dtype=str),
            words=np.array(index._vocab_words, dtype=str),
            ids=ids,
            id_at=id_at,
            starts=starts,
            ends=ends,
            df=index._df,
            hashes=index.hashes,
            doc_of=index.doc_of,
            pos_of=index.pos_of,
        )
    os.replace(tmp, path)


def _from_arrays(docs: Sequence[CorpusDoc], z: dict[str, Any], min_chars: int, min_score: float) -> CorpusIndex:
    index = CorpusIndex.__new__(CorpusIndex)
    index.docs = list(docs)
    index._by_id = {d.id: d.text for d in index.docs}
    index.n, index.min_chars, index.min_score = int(z["n"][0]), min_chars, min_score
    index._vocab_words = z["words"].tolist()
    index.vocab = {w: i for i, w in enumerate(index._vocab_words) if i}
    at = z["id_at"].tolist()
    ids, starts, ends = z["ids"], z["starts"].tolist(), z["ends"].tolist()
    index._doc_ids = [ids[a:b].astype(np.int32) for a, b in itertools.pairwise(at)]
    index._doc_starts = [starts[a:b] for a, b in itertools.pairwise(at)]
    index._doc_ends = [ends[a:b] for a, b in itertools.pairwise(at)]
    index._df, index.hashes, index.doc_of, index.pos_of = z["df"], z["hashes"], z["doc_of"], z["pos_of"]
    return index


def cached_index(
    docs: Sequence[CorpusDoc], path: Path, n: int = 4, min_chars: int = 40, min_score: float = 90.0
) -> CorpusIndex:
    """The index of `docs` from `path` when it holds it (same documents, same n), else built and saved there."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["n"][0]) == n and z["doc_ids"].tolist() == [d.id for d in docs]:
                return _from_arrays(docs, {k: z[k] for k in z.files}, min_chars, min_score)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # no cache yet, or a damaged one: build it again
    index = CorpusIndex(docs, n, min_chars, min_score)
    with contextlib.suppress(OSError):  # a read-only cache folder costs the next run the build, nothing else
        save_index(index, path)
    return index
