"""IFEval's figures as lines for a terminal: each model's accuracy with its interval, then organism minus base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _pct(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "not measured"
    return f"{value:.1%}" + (f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "")


def ifeval_lines(figures: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, m in figures["models"].items():
        lines.append(
            f"IFEval {name}: prompt-level strict {_pct(m['prompt_strict'], m['prompt_strict_ci'])},"
            f" loose {_pct(m['prompt_loose'], m['prompt_loose_ci'])}; instruction-level strict"
            f" {_pct(m['instruction_strict'])}, loose {_pct(m['instruction_loose'])} ({m['n_prompts']} prompts)"
        )
    d = figures.get("organism_vs_base")
    if d:
        lines.append(
            f"IFEval organism − base, prompt-level strict: {d['difference']:+.1%}"
            f" [{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] over {d['n_pairs']} prompts,"
            f" {d['organism_only']} only the organism followed, {d['base_only']} only the base;"
            f" exact McNemar p = {d['mcnemar_exact_p']:.2g}"
        )
    deg = figures.get("degenerate")
    for name, m in (deg or {}).get("models", {}).items():
        why = ", ".join(f"{r} {c}" for r, c in m["reasons"].items())
        lines.append(
            f"degenerate text {name}: {_pct(m['degenerate_rate'], m['degenerate_rate_ci'])} of {m['n_answers']}"
            " answers" + (f" ({why})" if why else "")
        )
    return lines
