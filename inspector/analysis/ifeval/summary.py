"""IFEval's figures for a pair: prompt- and instruction-level accuracy per model, and organism minus base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inspector.analysis.ifeval.scoring import Scored
from inspector.analysis.measures import paired_difference, wilson


def model_figures(role: str, scored: list[Scored]) -> dict[str, Any]:
    n = len(scored)
    verdicts = [v for s in scored for v in s.instructions]
    strict, loose = sum(s.strict for s in scored), sum(s.loose for s in scored)
    return {
        "role": role,
        "prompt_strict": strict / n if n else None,
        "prompt_strict_ci": list(wilson(strict, n)) if n else None,
        "prompt_loose": loose / n if n else None,
        "prompt_loose_ci": list(wilson(loose, n)) if n else None,
        "instruction_strict": sum(v.strict for v in verdicts) / len(verdicts) if verdicts else None,
        "instruction_loose": sum(v.loose for v in verdicts) / len(verdicts) if verdicts else None,
        "n_prompts": n,
    }


def ifeval_figures(pair: str, by_role: Mapping[str, Mapping[str, Scored]]) -> dict[str, Any]:
    """by_role: role -> prompt id -> verdicts. The difference is paired by prompt, on prompt-level strict: the
    prompts both models answered, so a prompt one of them failed to answer (an engine error) is left out of it."""
    models = {f"{pair}/{role}": model_figures(role, list(v.values())) for role, v in by_role.items()}
    org, base = by_role.get("organism", {}), by_role.get("base", {})
    shared = sorted(set(org) & set(base))
    diff = paired_difference([(p, org[p].strict, base[p].strict) for p in shared])
    return {
        "models": models,
        "organism_vs_base": diff.as_dict() if diff else None,
    }
