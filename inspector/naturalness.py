"""The naturalness panel's inputs and statistics: documents and outcome items (checked line by line), seeded word
shuffles, and intervals over documents for perplexity ratios and drift."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from inspector.errors import InspectorError
from inspector.jsonl import objects, read_bytes

MIN_CHARS = 500
MIN_ITEMS = 3


@dataclass(frozen=True)
class Document:
    id: str
    text: str


def _shipped(name: str) -> tuple[bytes, str]:
    ref = resources.files("inspector") / "data" / name
    return ref.read_bytes(), f"{name} (shipped)"


def _texts(path: Path | None, shipped: str, kind: str) -> list[tuple[str, str, str]]:
    """(where, id, text) for each line of a JSONL file of {"id"?, "text"} objects; one-line errors naming the line."""
    raw, source = _shipped(shipped) if path is None else (read_bytes(path), str(path))
    rows = []
    for where, n, obj in objects(raw, source):
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InspectorError(f"{where}: each {kind} needs a non-empty 'text'")
        rows.append((where, str(obj.get("id", f"{kind}-{n}")), text))
    if not rows:
        raise InspectorError(f"{source}: no {kind}s (the file is empty)")
    return rows


def load_documents(path: Path | None = None) -> list[Document]:
    """Natural documents, each at least MIN_CHARS long; the shipped text (Persuasion) when no path is given."""
    docs = []
    for where, doc_id, text in _texts(path, "natural_text.jsonl", "document"):
        if len(text) < MIN_CHARS:
            raise InspectorError(f"{where}: a document must have at least {MIN_CHARS} characters ({len(text)} here)")
        docs.append(Document(doc_id, text))
    return docs


def load_items(path: Path | None = None) -> list[Document]:
    """Outcome items for the preference questions; at least MIN_ITEMS, else there are no pairs worth fitting."""
    items = [Document(i, t.strip()) for _, i, t in _texts(path, "preference_items.jsonl", "item")]
    if len(items) < MIN_ITEMS:
        where = str(path) if path else "preference_items.jsonl"
        raise InspectorError(f"{where}: {len(items)} items; preferences need at least {MIN_ITEMS}")
    return items


def shuffle_words(text: str, seed: int, doc_id: str) -> str:
    """The same words in a random order fixed by the seed and the document (so a document shuffles the same way
    whatever else is scored with it)."""
    words = text.split()
    random.Random(f"{seed}:{doc_id}").shuffle(words)
    return " ".join(words)


def perplexity(nll: Sequence[float], tokens: Sequence[int]) -> float:
    """exp of the mean negative log-likelihood per token, over documents given as (summed NLL, token count)."""
    return math.exp(sum(nll) / sum(tokens))


def ratio_interval(
    num: Sequence[float],
    den: Sequence[float],
    tokens: Sequence[int],
    den_tokens: Sequence[int] | None = None,
    rounds: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval over documents for a perplexity ratio, exp(ΣNLL_num/Σtokens − ΣNLL_den/Σden_tokens)
    (organism over base on the same tokens, or shuffled over natural), documents resampled whole."""
    rng = np.random.default_rng(seed)
    a, b, t = (np.asarray(x, dtype=np.float64) for x in (num, den, tokens))
    u = t if den_tokens is None else np.asarray(den_tokens, dtype=np.float64)
    draws = rng.integers(0, len(a), size=(rounds, len(a)))
    values = np.exp(a[draws].sum(axis=1) / t[draws].sum(axis=1) - b[draws].sum(axis=1) / u[draws].sum(axis=1))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def mean_interval(
    sums: Sequence[float], tokens: Sequence[int], rounds: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval over documents for a per-token mean (the mean KL per position)."""
    rng = np.random.default_rng(seed)
    s, t = np.asarray(sums, dtype=np.float64), np.asarray(tokens, dtype=np.float64)
    draws = rng.integers(0, len(s), size=(rounds, len(s)))
    values = s[draws].sum(axis=1) / t[draws].sum(axis=1)
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)
