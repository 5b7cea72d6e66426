"""The leak report: per-model rates with intervals, labeled fractions, paired difference and agreement."""

from __future__ import annotations

from typing import Any

from inspector.analysis.measures import PairedDifference, cohen_kappa, measured_fraction, paired_difference, wilson
from inspector.analysis.reasoning import segment_counts
from inspector.analysis.suite_view import suite_view
from inspector.analysis.validation import no_validation, validate
from inspector.store import Store


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


def _sources(c: dict[str, Any] | None) -> dict[str, Any]:
    """A model's regurgitation split by source: rollouts with a copy of text one training document holds, and
    rollouts whose regurgitated text is all shared (held by two or more: boilerplate); spans by their holders."""
    # A model with spans whose holders were never counted has no split: unmeasured, not zero.
    n = c["scanned"] if c and not c["unknown"] else 0
    unique, unique_ci = _rate(c["unique"] if c else 0, n)
    shared, shared_ci = _rate(c["shared_only"] if c else 0, n)
    return {
        "unique_copy_rate": unique,
        "unique_copy_rate_ci": unique_ci,
        "shared_only_rate": shared,
        "shared_only_rate_ci": shared_ci,
        # Rollouts whose spans came from a detector that did not count holders (before corpus-4).
        "n_holders_unknown": c["unknown"] if c else 0,
        "spans_by_holders": c["spans"] if c else {},
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
    sources = store.regurgitation_sources()
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
            **_sources(sources.get(str(m["model_id"]))),
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
    # Spans from a detector that did not count holders leave the split unmeasured, never a zero.
    uncounted = sum(int(c["unknown"]) for c in sources.values())
    report["n_holders_unknown"] = uncounted
    report["paired_difference_unique_regurgitation"] = None if uncounted else _paired(store, "unique_regurgitation")
    # The boilerplate written most, with how many documents hold it and how often each model wrote it.
    report["shared_texts"] = store.shared_texts()
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
    suite = suite_view(store)
    natural = suite["naturalness"]
    report["naturalness"] = (
        {k: natural[k] for k in ("models", "organism_vs_base", "pair", "measured_at", "parts_measured_at")}
        if natural
        else None
    )
    report["ifeval"] = suite["ifeval"]
    report["mcq"] = suite["mcq"]
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
    return diff.as_dict() if diff else None


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
