"""Degenerate text among a pair's free answers to the same prompts (the suite's IFEval responses): the share of
answers the degenerate detector flags per model, with a Wilson interval, what flagged them, and organism minus
base paired by prompt."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from inspector.analysis.measures import paired_difference, wilson
from inspector.analysis.reasoning import BROKEN
from inspector.detect.degenerate import DegenerateDetector


def _reason(note: str | None) -> str:
    """A span's label without its figures, to count reasons: "gzip ratio 3.10" is "gzip ratio", "repeated
    5-grams" is "repeated n-grams"."""
    bare = (note or "repetition").split(" '")[0].split(' "')[0]  # a top n-gram's label quotes the n-gram
    return re.sub(r"\d+", "n", re.sub(r"\s*\d+\.\d+", "", bare))


def degenerate_figures(pair: str, by_role: Mapping[str, Mapping[str, tuple[str, str | None]]]) -> dict[str, Any]:
    """by_role: role -> prompt id -> (answer text, reasoning-trace status or None). A broken trace (never closed,
    or no answer after it) counts as degenerate, as in the leak report."""
    detector = DegenerateDetector()
    flagged: dict[str, dict[str, bool]] = {}
    models: dict[str, Any] = {}
    for role, texts in by_role.items():
        reasons: Counter[str] = Counter()
        flagged[role] = {}
        for pid, (text, trace) in texts.items():
            spans = detector.detect(text)
            why = {_reason(s.label) for s in spans} | (
                {f"broken reasoning trace ({trace})"} if trace in BROKEN else set()
            )
            flagged[role][pid] = bool(why)
            reasons.update(why)
        n, k = len(texts), sum(flagged[role].values())
        models[f"{pair}/{role}"] = {
            "role": role,
            "degenerate_rate": k / n if n else None,
            "degenerate_rate_ci": list(wilson(k, n)) if n else None,
            "n_answers": n,
            "reasons": dict(reasons.most_common()),
        }
    org, base = flagged.get("organism", {}), flagged.get("base", {})
    diff = paired_difference([(p, org[p], base[p]) for p in sorted(set(org) & set(base))])
    return {
        "models": models,
        "organism_vs_base": diff.as_dict() if diff else None,
        "detector": detector.version,
    }
