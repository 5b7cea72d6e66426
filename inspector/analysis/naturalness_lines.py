"""The naturalness panel as lines of text: per model, then the organism against its base (CLI and app alike)."""

from __future__ import annotations

from typing import Any


def _ci(ci: list[float] | None, fmt: str) -> str:
    return f" [{ci[0]:{fmt}}, {ci[1]:{fmt}}]" if ci else ""


def naturalness_lines(panel: dict[str, Any]) -> list[str]:
    """The panel in a few lines: per model, then the organism against its base; a measure that means nothing
    (a model not answering the preference questions) says so instead of printing a number, and a measure not
    taken (--only) is left out."""
    lines = []
    for name, m in panel["models"].items():
        if m["ppl_natural"] is not None:
            lines.append(
                f"{name}: perplexity {m['ppl_natural']:.1f} on natural text, {m['ppl_shuffled']:.1f} shuffled"
                f" (x{m['shuffle_ratio']:.2f}{_ci(m['shuffle_ratio_ci'], '.2f')}), {m['n_documents']} documents"
            )
        if m["answer_mass"] is None:
            continue
        if m["decisiveness"] is None:
            pref = m.get("note") or "decisiveness not measured"
        else:
            pref = f"decisiveness {m['decisiveness']:.3f}{_ci(m['decisiveness_ci'], '.3f')}"
        consistency = m["order_consistency"]
        lines.append(
            f"{name}: preferences over {m['n_pairs']} pairs of {m['n_items']} items: {pref}; order consistency "
            + (f"{consistency:.2f}" if consistency is not None else "—")
            + f", answer mass {m['answer_mass']:.2f}"
        )
    ob = panel["organism_vs_base"]
    versus = []
    if ob["ppl_ratio"] is not None:
        versus.append(f"perplexity x{ob['ppl_ratio']:.3f}{_ci(ob['ppl_ratio_ci'], '.3f')}")
    if ob["kl_mean"] is not None:
        versus.append(
            f"KL(base || organism) {ob['kl_mean']:.4f}{_ci(ob['kl_mean_ci'], '.4f')} nats per token ({ob['kl_method']})"
        )
    if versus:
        lines.append("organism vs base on natural text: " + ", ".join(versus))
    return lines
