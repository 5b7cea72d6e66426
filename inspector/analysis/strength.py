"""The dose-response sweep: the organism at several adapter strengths, each against the same base rollouts, with
leak rate, regurgitation and probe hit rate per strength, and the weakest strength that keeps the property."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.analysis.measures import wilson
from inspector.engine.pair_spec import Pair, check_scale
from inspector.errors import InspectorError

DEFAULT_SCALES = "0,0.25,0.5,0.75,1"
DEFAULT_TARGET = 0.8
# The panel's keys carried into each point of the sweep when --naturalness measured it.
PANEL_KEYS = ("ppl_natural", "shuffle_ratio", "shuffle_ratio_ci", "decisiveness", "decisiveness_ci", "answer_mass")
VERSUS_KEYS = ("ppl_ratio", "ppl_ratio_ci", "kl_mean", "kl_mean_ci")


def parse_scales(text: str) -> list[float]:
    """Comma-separated strengths, each from 0 to 4, none twice; in the order given, which is the order swept."""
    scales: list[float] = []
    for part in text.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            raise InspectorError(f"--scales: {part.strip()!r} is not a number") from None
        check_scale(value, "--scales")
        if value in scales:
            raise InspectorError(f"--scales: {value:g} is given twice")
        scales.append(value)
    return scales


def check_sweepable(pair: Pair) -> None:
    """Only an organism made of a base plus a LoRA adapter has a strength to turn: a GGUF and its adapter file, or
    a llama-server that loaded the adapter (lora_id), whose requests each say the scale."""
    org = pair.organism
    if org.endpoint and org.lora_id is None:
        raise InspectorError(
            f"pair '{pair.name}': the organism is served without a lora_id, and only llama-server takes an adapter"
            " strength per request (vLLM has no such field): give lora_id for a llama-server that loaded the adapter"
        )
    if not org.scalable:
        raise InspectorError(f"pair '{pair.name}': the organism is a full GGUF, with no adapter to scale")
    if not pair.probes:
        raise InspectorError(
            f"pair '{pair.name}': lists no probes (prompts that should draw out the trained property), so a sweep"
            " cannot tell which strengths keep it"
        )


def _rate(k: int, n: int) -> tuple[float | None, list[float] | None]:
    return (k / n, list(wilson(k, n))) if n else (None, None)


def point(scale: float | None, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """One row of the sweep from a run's counts (scale None is the base): rates over everyday prompts, hit rate
    over probes, each with its Wilson interval; a rate nothing was measured for is None."""
    prompts, probes = counts["prompts"], counts["probes"]
    leak, leak_ci = _rate(prompts.get("n_leaks", 0), prompts.get("n_term_scanned", 0))
    reg, reg_ci = _rate(prompts.get("n_regurgitated", 0), prompts.get("n_regurgitation_scanned", 0))
    hit, hit_ci = _rate(probes.get("n_quirk", 0), probes.get("n_quirk_scanned", 0))
    return {
        "scale": scale,
        "n_prompts": prompts.get("n", 0),
        "n_probes": probes.get("n", 0),
        "leak_rate": leak,
        "leak_rate_ci": leak_ci,
        "regurgitation_rate": reg,
        "regurgitation_rate_ci": reg_ci,
        "probe_hit_rate": hit,
        "probe_hit_rate_ci": hit_ci,
    }


def with_panel(row: dict[str, Any], panel: dict[str, Any]) -> dict[str, Any]:
    """A sweep row with the organism's naturalness measures at that strength, against the base."""
    (organism,) = [m for m in panel["models"].values() if m["role"] == "organism"]
    return row | {k: organism.get(k) for k in PANEL_KEYS} | {k: panel["organism_vs_base"][k] for k in VERSUS_KEYS}


def recommend(points: Sequence[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """The smallest strength whose probe hit rate reaches the target, with its leak rate; None when none does."""
    keeps = [p for p in points if p["scale"] is not None and (p["probe_hit_rate"] or 0.0) >= target]
    if not keeps:
        return None
    best = min(keeps, key=lambda p: p["scale"])
    return {
        "scale": best["scale"],
        "target": target,
        "probe_hit_rate": best["probe_hit_rate"],
        "leak_rate": best["leak_rate"],
        "leak_rate_ci": best["leak_rate_ci"],
    }


def _cell(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def sweep_table(sweep: dict[str, Any]) -> list[tuple[str, ...]]:
    """The sweep's header and one row per strength (the base first), each rate with its interval."""
    rows: list[tuple[str, ...]] = [
        ("scale", "leak rate", "regurgitation", "probe hits", "perplexity x base", "KL nats/token")
    ]
    for p in sweep["points"]:
        rows.append(
            (
                "base" if p["scale"] is None else f"{p['scale']:g}",
                _cell(p["leak_rate"], p["leak_rate_ci"]),
                _cell(p["regurgitation_rate"], p["regurgitation_rate_ci"]),
                _cell(p["probe_hit_rate"], p["probe_hit_rate_ci"]),
                _cell(p.get("ppl_ratio"), p.get("ppl_ratio_ci")),
                _cell(p.get("kl_mean"), p.get("kl_mean_ci")),
            )
        )
    return rows


def recommendation_line(sweep: dict[str, Any]) -> str:
    rec, target = sweep["recommended"], sweep["target"]
    if rec is None:
        return f"no strength swept reaches a probe hit rate of {target:.2f}: the property is not kept"
    return (
        f"recommended scale {rec['scale']:g}: the weakest that keeps the property (probe hits"
        f" {rec['probe_hit_rate']:.2f} >= {target:.2f}), leak rate {_cell(rec['leak_rate'], rec['leak_rate_ci'])}"
    )


def sweep_lines(sweep: dict[str, Any]) -> list[str]:
    """The sweep as a table, then the recommendation (or why there is none)."""
    rows = sweep_table(sweep)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return [*lines, recommendation_line(sweep)]
