"""Naturalness: the panel (perplexity on natural vs shuffled text, drift, preference coherence) for a pair, kept in
the session as a metric snapshot; the inputs checked before any model loads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from inspector.analysis.panel import BaseHalf, PanelSettings, Progress
from inspector.engine.base import Backend
from inspector.engine.pair_spec import Pair
from inspector.errors import InspectorError
from inspector.formats.panel_files import Document, load_documents, load_items
from inspector.store import Store


@dataclass(frozen=True)
class PanelInputs:
    """The panel's documents and outcome items (with where they came from), and its settings."""

    docs: list[Document]
    items: list[Document]
    settings: PanelSettings
    text_path: Path | None = None
    items_path: Path | None = None

    def describe(self) -> dict[str, Any]:
        """Where the inputs came from, with their sha256, for the snapshot."""
        return {
            "text": str(self.text_path or "natural_text.jsonl (shipped)"),
            "text_sha256": _sha256(self.text_path, "natural_text.jsonl"),
            "items": str(self.items_path or "preference_items.jsonl (shipped)"),
            "items_sha256": _sha256(self.items_path, "preference_items.jsonl"),
            "tokens_per_document": self.settings.tokens,
            "seed": self.settings.seed,
            "budget": self.settings.pair_budget,
            "system_prompt": self.settings.system,
            "parts": sorted(self.settings.parts),
        }


def _sha256(path: Path | None, shipped: str) -> str:
    data = (resources.files("inspector") / "data" / shipped).read_bytes() if path is None else path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def panel_inputs(
    text: Path | None = None,
    items: Path | None = None,
    tokens: int = 96,
    seed: int = 0,
    budget: int | None = None,
    system: str | None = None,
    parts: frozenset[str] = PanelSettings.parts,
) -> PanelInputs:
    """Read and check the inputs (None: the shipped ones); a bad file or setting is one line naming it."""
    docs, outcome_items = load_documents(text), load_items(items)
    if budget is not None and budget < 1:
        raise InspectorError(f"--budget must be at least 1 pair, not {budget}")
    if not 8 <= tokens <= 512:
        raise InspectorError(f"--tokens must be between 8 and 512, not {tokens}")
    return PanelInputs(docs, outcome_items, PanelSettings(tokens, seed, budget, system, parts), text, items)


def panel_backends(pair: Pair, cache: Path, inputs: PanelInputs) -> dict[str, Backend]:
    """The pair's two sides with contexts wide enough for a document and many sequences at once. Loaded before the
    session is opened, so a model that cannot load leaves the session as it was."""
    from inspector.engine.registry import open_pair

    return open_pair(pair, cache, n_seq=32, ctx_per_seq=max(64, inputs.settings.tokens))


def measure_naturalness(
    pair: Pair,
    backends: dict[str, Backend],
    inputs: PanelInputs,
    on_progress: Progress | None = None,
    base_half: BaseHalf | None = None,
) -> dict[str, Any]:
    """The panel on the pair's two sides. The session is not needed for it, so a panel that fails (an endpoint
    that gives no prompt log-probabilities) leaves the session as it was. Calls that change only the organism
    share one `base_half` (analysis/panel.py)."""
    from inspector.analysis.panel import run_panel

    return run_panel(pair.name, backends, inputs.docs, inputs.items, inputs.settings, on_progress, base_half)


def keep_naturalness(
    store: Store, pair: Pair, backends: dict[str, Backend], inputs: PanelInputs, panel: dict[str, Any]
) -> None:
    """The panel saved in the session as a "naturalness" snapshot, with the models and inputs it was measured on."""
    from inspector.actions.rollouts import model_provenance

    snapshot = {
        "pair": pair.name,
        **inputs.describe(),
        "models": model_provenance(store, pair, backends),
    }
    store.save_snapshot("naturalness", snapshot, panel)
