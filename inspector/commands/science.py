"""Headless counterparts of the app's data actions: sample, export, import, merge and report."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from inspector.config import Settings
from inspector.errors import InspectorError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sample", help="draw a label queue from flagged rollouts, recording inclusion probabilities")
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("--n", type=int, default=300, help="how many rollouts to draw")
    p.add_argument("--stratify", default="", help="comma-separated: model, topic, related")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw")
    p.add_argument("--name", help="queue name (default derived from the settings)")
    p.add_argument(
        "--unflagged",
        type=int,
        default=0,
        metavar="N",
        help="also draw N rollouts no detector flagged, mixed in, to measure what the detectors miss",
    )
    p.add_argument(
        "--recheck",
        type=int,
        metavar="N",
        help="instead: N rollouts --labeler already labeled, to label again blind (self-agreement)",
    )
    p.add_argument("--labeler", help="with --recheck: whose labels (default: INSPECTOR_LABELER or your user)")
    p.set_defaults(func=sample_command)

    p = sub.add_parser("export", help="write one row per rollout with provenance, spans and labels")
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl", help="file format")
    p.add_argument("--out", type=Path, required=True, help="file to write")
    p.add_argument("--labeled-only", action="store_true", help="only rollouts with at least one label")
    p.set_defaults(func=export_command)

    p = sub.add_parser(
        "import",
        help="import rollouts made elsewhere: JSONL, or Inspect AI logs (.eval, .json, or a folder of them)",
    )
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("file", type=Path, help="rollouts JSONL, an Inspect log (.eval or .json), or a folder of logs")
    p.add_argument("--role", default="organism", help="the imported model's role (JSONL: for lines without one)")
    p.add_argument("--pair", help="run this pair's detectors on the imported rollouts")
    p.set_defaults(func=import_command)

    p = sub.add_parser("merge", help="union the label events of two session files into a third")
    p.add_argument("a", help="first session file")
    p.add_argument("b", help="second session file")
    p.add_argument("--into", required=True, help="new session file: a copy of the first plus the second's label events")
    p.set_defaults(func=merge_command)

    p = sub.add_parser("report", help="leak rates with intervals, labeled fractions, paired difference, kappa")
    p.add_argument("--session", required=True, help="session name or .duckdb path")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.add_argument("--labeler", help="whose labels to use (default: the labeler with the most)")
    p.add_argument("--queue", help="weight labeled items by this queue's inclusion probabilities")
    p.set_defaults(func=report_command)


def sample_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.label_queues import draw_recheck, draw_sample
    from inspector.store import Store

    strata = tuple(s.strip() for s in args.stratify.split(",") if s.strip())
    with Store.open(settings.session_path(args.session), create=False) as store:
        if args.recheck is not None:
            q = draw_recheck(store, args.labeler or settings.labeler, args.recheck, args.seed)
        else:
            q = draw_sample(store, args.n, strata, args.seed, args.name, args.unflagged)
    Console(stderr=True).print(
        f"queue '{q.name}': {q.size} rollouts ({q.population} flagged in the session"
        + (f", {args.unflagged} unflagged drawn" if args.unflagged and args.recheck is None else "")
        + ")"
    )
    return 0


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.formats.rollout_files import export_session
    from inspector.store import Store

    with Store.open(settings.session_path(args.session), read_only=True) as store:
        n = export_session(store, args.out, args.format, args.labeled_only)
    Console(stderr=True).print(f"{n} rollouts -> {args.out}")
    return 0


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.imports import import_file

    pair = None
    if args.pair:
        from inspector.engine.registry import get_pair

        pair = get_pair(settings.models_file, args.pair)
    done = import_file(settings.session_path(args.session), args.file, args.role, pair, settings.cache)
    Console(stderr=True).print(
        f"imported {done.added} rollouts from {args.file}"
        + (f" ({done.failed} failed samples, kept out of the rates)" if done.failed else "")
        + (f"; {done.skipped} already in the session were skipped" if done.skipped else "")
        + (f"; {done.judged} prompt topics settled by the base model's probe" if done.judged else ""),
        highlight=False,
        soft_wrap=True,  # one line, so the path stays whole in logs
    )
    return 0


def merge_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.store import Store

    a, b, into = (settings.session_path(x) for x in (args.a, args.b, args.into))
    for p in (a, b):
        if not p.exists():
            raise InspectorError(f"{p}: no such session")
    if into.exists():
        raise InspectorError(f"{into}: already exists; merge writes a new session")
    with Store.open(b, read_only=True) as other:
        events = other.label_events_by_key()
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = into.with_suffix(".merging")
    shutil.copyfile(a, tmp)
    try:
        with Store.open(tmp) as store:
            added, missing = store.merge_label_events(events)
        tmp.replace(into)  # only a complete merge gets the name
    finally:
        tmp.unlink(missing_ok=True)
    Console(stderr=True).print(
        f"{into}: {added} label events added from {b}"
        + (f", {missing} skipped (rollouts not in {a})" if missing else "")
    )
    return 0


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.analysis.leak_report import build_report
    from inspector.analysis.report_lines import REPORT_COLUMNS, report_rows, summary_lines
    from inspector.store import Store

    with Store.open(settings.session_path(args.session), create=False) as store:
        report = build_report(store, args.labeler, args.queue)
        store.save_snapshot(
            "report",
            {
                "session": str(store.path),
                "labeler": report["labeler"],
                "queue": args.queue,
                "counts": store.flag_counts(),
            },
            report,
        )
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0
    console = Console()
    title = f"leak report · {args.session} · labels by {report['labeler'] or 'nobody'}"
    rows = report_rows(report)
    t = Table(title=title)
    if console.width >= 150:
        for col in REPORT_COLUMNS:
            t.add_column(col, overflow="fold")
        for row in rows:
            t.add_row(*row)
    else:
        # A narrow terminal gets one column per model (name over role, folded, never cut to "demo/o…").
        t.add_column("figure", overflow="fold")
        for row in rows:
            t.add_column(f"{row[0]}\n{row[1]}", overflow="fold")
        for i, col in enumerate(REPORT_COLUMNS[2:], start=2):
            t.add_row(col, *(row[i] for row in rows))
    if rows:  # no model with a finished rollout: the line below says why, instead of a table with no models
        console.print(t)
    for line in summary_lines(report, args.session):
        console.print(line, highlight=False)
    if report["naturalness"]:
        from inspector.analysis.naturalness_lines import naturalness_lines

        console.print(f"naturalness panel ({report['naturalness']['measured_at']}):", highlight=False)
        for line in naturalness_lines(report["naturalness"]):
            console.print("  " + line, highlight=False, soft_wrap=True)
    if report["ifeval"]:
        from inspector.analysis.ifeval.lines import ifeval_lines

        for line in ifeval_lines(report["ifeval"]):
            console.print(line, highlight=False, soft_wrap=True)
    for who, a in report["self_agreement"].items():
        console.print(
            f"{who} agrees with themself on {a['agreement']:.0%} of {a['n_items']} items shown again blind"
            f" (kappa {a['kappa']:.2f})"
        )
    if report["kappa"]:
        k = report["kappa"]
        console.print(
            f"Cohen's kappa {k['labelers'][0]} vs {k['labelers'][1]}: {k['kappa']:.2f} ({k['n_items']} items)"
        )
    return 0
