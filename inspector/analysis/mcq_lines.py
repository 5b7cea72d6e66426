"""Multiple-choice figures as lines for a terminal: each model's accuracy beside chance, then organism minus base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mcq_lines(figures: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, m in figures["models"].items():
        lo, hi = m["accuracy_ci"]
        top = max(m["picks"].items(), key=lambda kv: kv[1])
        lines.append(
            f"multiple choice {name}: accuracy {m['accuracy']:.1%} [{lo:.1%}, {hi:.1%}] of {m['n_questions']}"
            f" questions (chance {m['chance']:.1%}); answer mass {m['answer_mass']:.2f}; picks {top[0]}"
            f" {top[1]:.0%} of the time"
        )
        if m.get("note"):
            lines.append(f"  {m['note']}")
    d = figures.get("organism_vs_base")
    if d:
        lines.append(
            f"multiple choice organism − base: {d['difference']:+.1%} [{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] over"
            f" {d['n_pairs']} questions, {d['organism_only']} only the organism got right, {d['base_only']} only"
            f" the base; exact McNemar p = {d['mcnemar_exact_p']:.2g}"
        )
    return lines
