"""The naturalness panel's input files: documents and outcome items, JSONL lines of {"id"?, "text"}, checked line by
line (the shipped ones when no file is given)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes

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
