"""Detectors checked against people: per-detector precision and recall, and the label-corrected leak rate."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from inspector.analysis.measures import measured_fraction, stratified_proportion
from inspector.store import Store

DETECTORS = ("term", "regurgitation", "quirk", "any")
LEAK_VERDICTS = ("nonsequitur", "related")  # "none" is the labeler saying the detector was wrong


def validate(store: Store, labeler: str | None, queue: str | None) -> dict[str, dict[str, Any]]:
    """Per model id: the corrected leak rate and each detector's precision and recall, from one drawn queue.

    Design-based: each labeled item stands for N_h / (labeled in its stratum) rollouts of its stratum. The queue is
    shuffled when drawn, so the items labeled so far are a random subsample of every stratum."""
    queue = queue or store.latest_queue(drawn_only=True)
    if not labeler or not queue:
        return {}
    items = store.validation_items(queue, labeler)
    drawn: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        drawn[str(it["stratum"])].append(it)
    out: dict[str, dict[str, Any]] = {}
    for model_id in sorted({str(it["model_id"]) for it in items}):
        cells: list[tuple[int, int, int]] = []
        weighted: list[tuple[dict[str, Any], float]] = []
        has_unflagged = False
        for stratum, members in drawn.items():
            mine = [it for it in members if str(it["model_id"]) == model_id]
            if not mine:
                continue
            # Stratum size from the draw: n_h items at probability n_h / N_h. Old samples were not split by model;
            # there a model's share of the stratum is estimated from its share of the drawn items.
            size = round(len(members) / float(members[0]["inclusion_prob"])) * len(mine) / len(members)
            labeled = [it for it in mine if it["leak"] is not None]
            leaks = sum(it["leak"] in LEAK_VERDICTS for it in labeled)
            cells.append((round(size), len(labeled), leaks))
            weighted += [(it, len(labeled) / size) for it in labeled]
            has_unflagged |= stratum.startswith("unflagged")
        out[model_id] = _model_validation(cells, weighted, has_unflagged)
    return out


def no_validation() -> dict[str, Any]:
    """The keys a model has when nothing of it was labeled in a drawn queue: every figure "not measured"."""
    return _model_validation([], [], False) | {"corrected_needs": "no labeled items of this model in a drawn queue"}


def _model_validation(
    cells: list[tuple[int, int, int]], weighted: list[tuple[dict[str, Any], float]], has_unflagged: bool
) -> dict[str, Any]:
    est = stratified_proportion(cells) if has_unflagged else None
    detectors: dict[str, Any] = {}
    for d in DETECTORS:
        flagged = [(it["leak"] in LEAK_VERDICTS, p) for it, p in weighted if it[d]]
        precision, precision_ci = measured_fraction(flagged)
        # Recall needs leaks the detectors missed: without labeled unflagged items it would be 1 by construction.
        true = [(bool(it[d]), p) for it, p in weighted if it["leak"] in LEAK_VERDICTS]
        recall, recall_ci = measured_fraction(true) if has_unflagged else (None, None)
        detectors[d] = {
            "precision": precision,
            "precision_ci": precision_ci,
            "recall": recall,
            "recall_ci": recall_ci,
            "n_labeled": len(flagged),
            "n_labeled_leaks": len(true),
        }
    return {
        "corrected_leak_rate": est.estimate if est else None,
        "corrected_leak_rate_ci": list(est.ci) if est else None,
        "corrected_leak_rate_method": est.method if est else None,
        "corrected_n_labeled": sum(n for _, n, _ in cells),
        "corrected_needs": None if est else _missing(cells, has_unflagged),
        "detectors": detectors,
    }


def _missing(cells: list[tuple[int, int, int]], has_unflagged: bool) -> str:
    if not has_unflagged:
        return "no unflagged rollouts in the queue: draw some with `inspector sample --unflagged N`"
    return "a stratum of the queue has no label yet: label further into the queue"
