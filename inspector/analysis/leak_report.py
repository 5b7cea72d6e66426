"""The leak report: per-model rates with intervals, labeled fractions, paired difference and agreement."""

from __future__ import annotations

from typing import Any

from inspector.analysis.measures import PairedDifference, cohen_kappa, measured_fraction, paired_difference, wilson
from inspector.analysis.reasoning import segment_counts
from inspector.analysis.validation import no_validation, validate
from inspector.store import Store

REPORT_COLUMNS = (
    "model",
    "role",
    "rollouts",
    "leaks",
    "leak rate [95% CI]",
    "unrelated-prompt leak rate",
    "labeled leaks",
    "non-sequitur",
    "quirk among non-seq.",
    "regurgitation [95% CI]",
    "mostly corpus",
)


def fmt_rate(value: float | None, ci: list[float] | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" + (f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "")


def report_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row of cells per model, in REPORT_COLUMNS order (the CLI table and the Summary screen share them)."""
    return [
        (
            name,
            str(m["role"]),
            str(m["n_rollouts"]),
            str(m["n_leaks"]),
            fmt_rate(m["leak_rate"], m["leak_rate_ci"]),
            fmt_rate(m["unrelated_leak_rate"], m["unrelated_leak_rate_ci"]),
            str(m["n_labeled_leaks"]),
            fmt_rate(m["non_sequitur_fraction"], m["non_sequitur_fraction_ci"]),
            fmt_rate(m["quirk_fraction"], m["quirk_fraction_ci"])
            + (f" of {m['n_quirk_labeled']}" if m.get("n_quirk_labeled") else ""),
            fmt_rate(m["regurgitation_rate"], m["regurgitation_rate_ci"]),
            fmt_rate(m["mostly_corpus_rate"]),
        )
        for name, m in report["models"].items()
    ]


def summary_lines(report: dict[str, Any], session: str) -> list[str]:
    """The lines under the table (CLI and Summary screen): paired differences and what was never scanned."""
    lines = []
    if not report["models"]:
        failed = report.get("n_failed_unrated", 0)
        lines.append(
            f"nothing to rate: all {failed} rollouts in {session} failed (their errors are in `inspector export`)"
            if failed
            else f"nothing to rate: {session} holds no rollout yet"
        )
    for key, what in (("paired_difference", "leaked"), ("paired_difference_regurgitation", "regurgitated")):
        d = report.get(key)
        if d:
            lines.append(
                f"organism − base, {what} (paired, {d['n_pairs']} pairs): {d['difference']:+.1%} "
                f"[{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] · only organism {d['organism_only']}, only base "
                f"{d['base_only']} · exact McNemar p = {d['mcnemar_exact_p']:.3g} · {d['method']}"
            )
    lines += condition_lines(report)
    lines += text_shape_lines(report)
    lines += validation_lines(report)
    t = report.get("topic_hint_agreement")
    if t:
        lines.append(
            f"topic hint agrees with people on {fmt_rate(t['agreement'], t['agreement_ci'])} of {t['n_prompts']}"
            " prompts they judged (their verdicts are used above)"
        )
    unscanned = report.get("not_scanned") or {}
    if unscanned:
        n = max(max(v.values()) for v in unscanned.values())
        lines.append(
            f"— not measured: up to {n} rollouts per model were never scanned; run"
            f" `inspector detect --session {session} --pair PAIR`"
        )
    return lines


def text_shape_lines(report: dict[str, Any]) -> list[str]:
    """Control tokens written out as text, degenerate text, and reasoning traces (broken ones, leaks per
    segment), per model."""
    lines = []
    control = [
        f"{name} {fmt_rate(m['control_token_rate'], m['control_token_rate_ci'])} ({m['n_control_tokens']} tokens)"
        for name, m in report["models"].items()
        if m.get("n_control_tokens")
    ]
    if control:
        lines.append("control tokens written out as text, share of rollouts: " + " · ".join(control))
    degenerate = [
        f"{name} {fmt_rate(m['degenerate_rate'], m['degenerate_rate_ci'])} ({m['n_degenerate_at_limit']} at the"
        " token limit)"
        for name, m in report["models"].items()
        if m.get("n_degenerate_scanned")
    ]
    # Like control tokens, a line only where there is something to see: some model wrote degenerate text.
    if any(m.get("degenerate_rate") for m in report["models"].values()):
        d = report.get("paired_difference_degenerate")
        paired = f" · organism − base {d['difference']:+.1%} [{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}]" if d else ""
        lines.append(
            "degenerate text (loops, repetition, control tokens, broken traces): " + " · ".join(degenerate) + paired
        )
    for name, m in report["models"].items():
        r = m.get("reasoning")
        if r:
            st = r["statuses"]
            broken = fmt_rate(r["broken_trace_rate"], r["broken_trace_rate_ci"])
            lines.append(
                f"{name} reasoning traces: {st['closed']} closed, {st['unclosed']} never closed,"
                f" {st['empty_answer']} with nothing after, {st['none']} none · broken {broken} · leaks in the"
                f" reasoning {fmt_rate(r['leak_rate_reasoning'])}, in the answer {fmt_rate(r['leak_rate_answer'])}"
            )
    return lines


def condition_lines(report: dict[str, Any]) -> list[str]:
    """One line per system prompt the session's prompts were asked under, every model's leak and regurgitation rates
    side by side and the paired difference; nothing when every prompt was asked without one."""
    paired = report.get("conditions") or []
    if all(c["system_prompt"] is None for c in paired):
        return []
    lines = []
    for c in paired:
        system = c["system_prompt"]
        head = "no system prompt" if system is None else "system " + repr(" ".join(system.split())[:60])
        parts = []
        for name, m in report["models"].items():
            row = next((x for x in m.get("conditions", []) if x["system_prompt"] == system), None)
            if row is not None:
                rate = fmt_rate(row["leak_rate"], row["leak_rate_ci"])
                parts.append(
                    f"{name} leaks {row['n_leaks']}/{row['n_scanned']} = {rate}"
                    f", regurgitates {fmt_rate(row['regurgitation_rate'])}"
                )
        d = c.get("paired_difference")
        if d:
            parts.append(f"organism − base {d['difference']:+.1%} [{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}]")
        lines.append(f"{head}: " + " · ".join(parts))
    return lines


def validation_lines(report: dict[str, Any]) -> list[str]:
    """Per model: the detector's leak rate beside the label-corrected one, and each detector against the labels."""
    lines = []
    for name, m in report["models"].items():
        if not m["corrected_n_labeled"]:
            continue
        corrected = fmt_rate(m["corrected_leak_rate"], m["corrected_leak_rate_ci"])
        lines.append(
            f"{name}: leak rate by detector {fmt_rate(m['leak_rate'])} · corrected by labels {corrected}"
            f" from {m['corrected_n_labeled']} labels"
            + (
                f" ({m['corrected_leak_rate_method']})"
                if m["corrected_leak_rate_method"]
                else f" — {m['corrected_needs']}"
            )
        )
        parts = []
        for d, v in m["detectors"].items():
            if v["n_labeled"] or v["n_labeled_leaks"]:
                parts.append(
                    f"{d}: precision {fmt_rate(v['precision'], v['precision_ci'])} of {v['n_labeled']},"
                    f" recall {fmt_rate(v['recall'], v['recall_ci'])}"
                )
        if parts:
            lines.append("  " + " · ".join(parts))
    return lines


def _rate(k: int, n: int) -> tuple[float | None, list[float] | None]:
    """k of n with its Wilson interval; nothing measured (n = 0) is None, never a zero."""
    return (k / n, list(wilson(k, n))) if n else (None, None)


def _detector_rates(m: dict[str, Any]) -> dict[str, Any]:
    """A count row's detector rates with their intervals (a model's, or a model's under one condition)."""
    n, nu, nr = int(m["n_term_scanned"]), int(m["n_unrelated"]), int(m["n_regurgitation_scanned"])
    leak_rate, leak_ci = _rate(int(m["n_leaks"]), n)
    unrelated, unrelated_ci = _rate(int(m["n_unrelated_leaks"]), nu)
    regurgitation, regurgitation_ci = _rate(int(m["n_regurgitated"]), nr)
    mostly, mostly_ci = _rate(int(m["n_mostly_corpus"]), nr)
    return {
        "n_rollouts": int(m["n_rollouts"]),
        # Rates are over the rollouts a detector looked at; the rest are "not measured" (see not_scanned).
        "n_scanned": n,
        "n_leaks": int(m["n_leaks"]),
        "leak_rate": leak_rate,
        "leak_rate_ci": leak_ci,
        "n_unrelated": nu,
        "unrelated_leak_rate": unrelated,
        "unrelated_leak_rate_ci": unrelated_ci,
        "n_regurgitation_scanned": nr,
        "regurgitation_rate": regurgitation,
        "regurgitation_rate_ci": regurgitation_ci,
        "mostly_corpus_rate": mostly,
        "mostly_corpus_rate_ci": mostly_ci,
        "regurgitated_char_fraction": (
            float(m["regurgitated_char_fraction"]) if nr and m["regurgitated_char_fraction"] is not None else None
        ),
    }


def _scanned_rate(c: dict[str, int] | None) -> tuple[int, float | None, list[float] | None]:
    """Of a detector kind's counts: rollouts it scanned, and the share (with interval) that had a span of it."""
    scanned = c["scanned"] if c else 0
    return (scanned, *_rate(c["with"] if c else 0, scanned))


def _control(c: dict[str, int] | None) -> dict[str, Any]:
    """The share of rollouts that write a control token out as text, and how many tokens (None: not scanned)."""
    scanned, rate, ci = _scanned_rate(c)
    return {
        "n_control_scanned": scanned,
        "control_token_rate": rate,
        "control_token_rate_ci": ci,
        "n_control_tokens": c["tokens"] if c and scanned else None,
    }


def _degenerate(c: dict[str, int] | None) -> dict[str, Any]:
    """The share of rollouts whose text loops, repeats or writes control tokens, or whose reasoning trace broke;
    and how many of the looping ones ran into the token limit (None: not scanned)."""
    scanned, rate, ci = _scanned_rate(c)
    return {
        "n_degenerate_scanned": scanned,
        "degenerate_rate": rate,
        "degenerate_rate_ci": ci,
        "n_degenerate_at_limit": c["at_limit"] if c and scanned else None,
    }


def _conditions(store: Store) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Per model id, its rates under each system prompt (None: none); and per system prompt, the paired
    organism-minus-base differences under it."""
    per_model: dict[str, list[dict[str, Any]]] = {}
    systems: list[str | None] = []
    for row in store.model_counts(by_system=True):
        system = row["system_prompt"]
        per_model.setdefault(str(row["model_id"]), []).append({"system_prompt": system} | _detector_rates(row))
        if system not in systems:
            systems.append(system)
    paired = [
        {
            "system_prompt": system,
            "paired_difference": _paired(store, "leak", system, by_system=True),
            "paired_difference_regurgitation": _paired(store, "regurgitation", system, by_system=True),
        }
        for system in systems
    ]
    return per_model, paired


def build_report(store: Store, labeler: str | None = None, queue: str | None = None) -> dict[str, Any]:
    """Everything `inspector report` prints and the Summary screen shows; pure reads."""
    labelers = store.labelers()
    who = labeler or (labelers[0][0] if labelers else None)
    labeled = store.labeled_leaks(who, queue) if who else []
    checked = validate(store, who, queue)
    models: dict[str, Any] = {}
    counts = store.model_counts()
    errors = store.error_counts()
    names = [str(m["name"] or m["role"]) for m in counts]
    conditions, paired_conditions = _conditions(store)
    control = store.control_counts()
    degenerate = store.kind_counts("degenerate", broken_traces=True)
    traces = store.trace_rows()
    for m in counts:
        mine = [r for r in labeled if r["model_id"] == m["model_id"]]
        # Leaks the labeler confirmed (non-sequitur or related); "none" marks a false detection.
        leaks = [r for r in mine if r["leak"] in ("nonsequitur", "related")]
        ns = [r for r in leaks if r["leak"] == "nonsequitur"]
        ns_frac, ns_ci = measured_fraction([(r["leak"] == "nonsequitur", float(r["inclusion_prob"])) for r in leaks])
        # Over the non-sequiturs whose quirk was judged: a leak labeled without a quirk verdict is unknown, not "no".
        judged = [r for r in ns if r["quirk"] is not None]
        q_frac, q_ci = measured_fraction([(r["quirk"] == "yes", float(r["inclusion_prob"])) for r in judged])
        name = str(m["name"] or m["role"])
        # One name in both roles (two logs of one served model) is two models: the role tells them apart.
        key = name if names.count(name) == 1 else f"{name} ({m['role']})"
        models[key] = {
            "role": m["role"],
            "n_errors": errors.get(str(m["model_id"]), 0),
            **_detector_rates(m),
            # The same rates under each system prompt the session's prompts were asked under.
            "conditions": conditions.get(str(m["model_id"]), []),
            **_control(control.get(str(m["model_id"]))),
            **_degenerate(degenerate.get(str(m["model_id"]))),
            # Reasoning and answer apart, and the share of broken traces (None: no run had reasoning markers).
            "reasoning": segment_counts(traces[str(m["model_id"])]) if str(m["model_id"]) in traces else None,
            "n_labeled": len(mine),
            "n_labeled_leaks": len(leaks),
            "non_sequitur_fraction": ns_frac,
            "non_sequitur_fraction_ci": ns_ci,
            "quirk_fraction": q_frac,
            "quirk_fraction_ci": q_ci,
            "n_quirk_labeled": len(judged),
        } | checked.get(str(m["model_id"]), no_validation())
    report: dict[str, Any] = {
        "models": models,
        # Failed rollouts of models with no finished one: such a model has no row to show its errors in.
        "n_failed_unrated": sum(n for mid, n in errors.items() if mid not in {str(m["model_id"]) for m in counts}),
        "labeler": who,
        "queue": queue,
        "validation_queue": queue or store.latest_queue(drawn_only=True),
    }
    report["paired_difference"] = _paired(store, "leak")
    report["paired_difference_regurgitation"] = _paired(store, "regurgitation")
    report["paired_difference_degenerate"] = _as_dict(paired_difference(store.degenerate_pairs()))
    report["conditions"] = paired_conditions
    # Rollouts no detector looked at (imported without --pair, run with --no-detect): counted, never rated.
    report["not_scanned"] = {
        name: {
            "term": m["n_rollouts"] - m["n_scanned"],
            "regurgitation": m["n_rollouts"] - m["n_regurgitation_scanned"],
        }
        for name, m in models.items()
        if m["n_rollouts"] > min(m["n_scanned"], m["n_regurgitation_scanned"])
    }
    report["topic_hint_agreement"] = _topic_agreement(store)
    report["kappa"] = _kappa(store, labelers)
    report["self_agreement"] = _self_agreement(store, labelers)
    snap = store.latest_snapshot("naturalness")
    report["naturalness"] = (
        {
            "models": snap["metrics"]["models"],
            "organism_vs_base": snap["metrics"]["organism_vs_base"],
            "pair": snap["inputs"].get("pair"),
            "measured_at": str(snap["created_at"]),
        }
        if snap
        else None
    )
    ifeval = store.latest_snapshot("ifeval")
    report["ifeval"] = (
        {**ifeval["metrics"], "pair": ifeval["inputs"].get("pair"), "inputs": ifeval["inputs"]} if ifeval else None
    )
    sweep = store.latest_snapshot("sweep")
    points = sweep["metrics"]["points"] if sweep else []
    # One row per strength; the base's rates (measured once, on the same prompts) beside them.
    report["sweep"] = [p for p in points if p["scale"] is not None] if sweep else None
    report["sweep_base"] = next((p for p in points if p["scale"] is None), None)
    report["recommended_scale"] = sweep["metrics"]["recommended"] if sweep else None
    return report


def _paired(store: Store, what: str, system: str | None = None, by_system: bool = False) -> dict[str, Any] | None:
    return _as_dict(paired_difference(store.leak_pairs(what, system, by_system)))


def _as_dict(diff: PairedDifference | None) -> dict[str, Any] | None:
    if diff is None:
        return None
    return {
        "n_pairs": diff.n_pairs,
        "both": diff.both,
        "organism_only": diff.organism_only,
        "base_only": diff.base_only,
        "difference": diff.difference,
        "ci": list(diff.ci),
        "mcnemar_exact_p": diff.mcnemar_p,
        "method": diff.method,
    }


def _topic_agreement(store: Store) -> dict[str, Any] | None:
    """How often the topic hint (lexicon + base-model probe) agrees with people's verdicts ("t" in the Label screen);
    the rates above already use the people's verdicts where there are some."""
    verdicts = store.topic_verdicts()
    if not verdicts:
        return None
    agree = sum(a == b for a, b in verdicts)
    n = len(verdicts)
    return {"n_prompts": n, "agreement": agree / n, "agreement_ci": list(wilson(agree, n))}


def _self_agreement(store: Store, labelers: list[tuple[str, int]]) -> dict[str, Any]:
    """Per labeler: agreement and kappa between first and blind second verdicts on re-shown items."""
    out: dict[str, Any] = {}
    for who, _ in labelers:
        pairs = store.self_agreement_pairs(who)
        if pairs:
            first, second = [a for a, _ in pairs], [b for _, b in pairs]
            out[who] = {
                "n_items": len(pairs),
                "agreement": sum(a == b for a, b in pairs) / len(pairs),
                "kappa": cohen_kappa(first, second),
            }
    return out


def _kappa(store: Store, labelers: list[tuple[str, int]]) -> dict[str, Any] | None:
    if len(labelers) < 2:
        return None
    a, b = labelers[0][0], labelers[1][0]
    table = store.current_label_table()
    la = {r["rollout_id"]: r["leak"] for r in table if r["labeler"] == a and r["leak"]}
    lb = {r["rollout_id"]: r["leak"] for r in table if r["labeler"] == b and r["leak"]}
    common = sorted(set(la) & set(lb))
    if not common:
        return None
    return {
        "labelers": [a, b],
        "n_items": len(common),
        "kappa": cohen_kappa([la[i] for i in common], [lb[i] for i in common]),
    }
