"""The leak report as a terminal shows it: the table's rows and the lines under it (conditions, text shape,
validation), from the dict `leak_report.build_report` returns."""

from __future__ import annotations

from typing import Any

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


def _any_regurgitation(report: dict[str, Any]) -> bool:
    return any(m.get("spans_by_holders") for m in report["models"].values())


def source_lines(report: dict[str, Any]) -> list[str]:
    """Regurgitation by source: a unique copy against shared boilerplate, per model, and the shared texts written
    most (a sentence the base writes as often as the organism is the corpus's, not the fine-tuning's)."""
    lines: list[str] = []
    if not _any_regurgitation(report):
        return lines
    if report.get("n_holders_unknown"):
        lines.append(
            f"regurgitation by source not measured: {report['n_holders_unknown']} rollouts' spans were found"
            " before corpus-4 counted their holders (`inspector detect` counts them)"
        )
        return lines  # one side's split alone compares with nothing
    for name, m in report["models"].items():
        if m.get("unique_copy_rate") is None:
            continue
        bands = m["spans_by_holders"]
        held = ", ".join(f"{bands[b]} by {b}" for b in ("1", "2-9", "10-99", "100+", "unknown") if bands.get(b))
        unique = fmt_rate(m["unique_copy_rate"], m["unique_copy_rate_ci"])
        shared = fmt_rate(m["shared_only_rate"], m["shared_only_rate_ci"])
        lines.append(
            f"{name}: copies text one training document holds in {unique} of rollouts, only shared text (held by"
            f" 2+) in {shared}" + (f"; spans held {held}" if held else "")
        )
    for t in report.get("shared_texts") or []:
        text = t["text"] if len(t["text"]) <= 70 else t["text"][:67] + "..."
        lines.append(
            f'  shared: "{text}" held by {t["holders"]:,} documents, written by the organism in {t["organism"]}'
            f" rollouts, the base in {t['base']}"
        )
    return lines


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
    for key, what in (
        ("paired_difference", "leaked"),
        ("paired_difference_regurgitation", "regurgitated"),
        ("paired_difference_unique_regurgitation", "copied text one training document holds"),
    ):
        d = report.get(key)
        if key == "paired_difference_unique_regurgitation" and not _any_regurgitation(report):
            d = None  # nothing regurgitated: no split of it to show
        if d:
            lines.append(
                f"organism − base, {what} (paired, {d['n_pairs']} pairs): {d['difference']:+.1%} "
                f"[{d['ci'][0]:+.1%}, {d['ci'][1]:+.1%}] · only organism {d['organism_only']}, only base "
                f"{d['base_only']} · exact McNemar p = {d['mcnemar_exact_p']:.3g} · {d['method']}"
            )
    lines += source_lines(report)
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
