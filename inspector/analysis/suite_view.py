"""The suite as one view from a session's snapshots: the panel's parts (perplexity, drift, decisiveness) each from the
newest naturalness snapshot of the pair that measured it (`naturalness --only` measures some), IFEval and degenerate
text from the newest IFEval snapshot, multiple choice from the newest "mcq" one."""

from __future__ import annotations

import copy
from typing import Any, Protocol

PANEL_PARTS = ("perplexity", "drift", "decisiveness")
# Which keys of a model's entry and of organism_vs_base each part of the panel writes.
PART_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "perplexity": (
        ("ppl_natural", "ppl_shuffled", "shuffle_ratio", "shuffle_ratio_ci", "n_documents", "n_tokens"),
        ("ppl_ratio", "ppl_ratio_ci"),
    ),
    "drift": ((), ("kl_mean", "kl_mean_ci", "kl_method")),
    "decisiveness": (
        ("n_items", "n_pairs", "answer_mass", "order_consistency", "decisiveness", "decisiveness_ci", "note"),
        (),
    ),
}


class Snapshots(Protocol):
    def snapshots(self, kind: str, limit: int = 50) -> list[dict[str, Any]]: ...

    def latest_snapshot(self, kind: str) -> dict[str, Any] | None: ...


def _parts(snap: dict[str, Any]) -> list[str]:
    # Snapshots from before --only measured all three.
    return list(snap["inputs"].get("parts") or PANEL_PARTS)


def naturalness_view(store: Snapshots) -> dict[str, Any] | None:
    """The newest panel of the newest snapshot's pair, each part from the newest snapshot that measured it, with
    when each was measured (None: never)."""
    snaps = store.snapshots("naturalness")
    if not snaps:
        return None
    newest = snaps[0]
    pair = newest["inputs"].get("pair")
    out: dict[str, Any] = copy.deepcopy(newest["metrics"])
    measured: dict[str, str | None] = {}
    for part, (model_keys, versus_keys) in PART_KEYS.items():
        src = next((s for s in snaps if s["inputs"].get("pair") == pair and part in _parts(s)), None)
        measured[part] = str(src["created_at"]) if src else None
        if src is None or src is newest:
            continue
        for name, m in out["models"].items():
            old = src["metrics"]["models"].get(name, {})
            m.update({k: old.get(k) for k in model_keys if k in old or k != "note"})
        out["organism_vs_base"].update({k: src["metrics"]["organism_vs_base"].get(k) for k in versus_keys})
        if part == "drift":
            out["top_drift"] = src["metrics"].get("top_drift", [])
    return out | {"pair": pair, "measured_at": str(newest["created_at"]), "parts_measured_at": measured}


def suite_view(store: Snapshots) -> dict[str, Any]:
    """{"naturalness", "ifeval", "mcq"}: each None when the session has not measured it."""
    ifeval, mcq = store.latest_snapshot("ifeval"), store.latest_snapshot("mcq")
    return {
        "naturalness": naturalness_view(store),
        "ifeval": ifeval["metrics"] | {"pair": ifeval["inputs"].get("pair"), "inputs": ifeval["inputs"]}
        if ifeval
        else None,
        "mcq": mcq["metrics"] | {"pair": mcq["inputs"].get("pair"), "inputs": mcq["inputs"]} if mcq else None,
    }
