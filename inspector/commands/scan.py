"""`inspector scan`: detector spans for rollouts made anywhere, JSONL in, JSONL out (the DESIGN contract)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from inspector.config import Settings
from inspector.errors import InspectorError
from inspector.formats.jsonl import objects


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("scan", help="find leak spans in JSONL rollouts {id, text, prompt?}; print JSONL spans")
    p.add_argument("input", nargs="?", type=Path, help="JSONL file (default: standard input)")
    p.add_argument("--corpus", type=Path, help="training corpus JSONL ({id?, text})")
    p.add_argument("--term", action="append", default=[], help="a leak term (repeat for more)")
    p.add_argument("--fact", action="append", default=[], help="a key fact or quirk to catch restatements of")
    p.add_argument("--pair", help="take terms, corpus and key facts from this pair in models.toml")
    p.add_argument("--min-chars", type=int, default=40, help="shortest regurgitated span (characters)")
    p.add_argument("--min-score", type=float, default=90.0, help="lowest rapidfuzz score for regurgitation")
    p.set_defaults(func=scan_command)


def read_rollouts(data: bytes, source: str) -> list[tuple[Any, str, str | None]]:
    """Parse every line before any output, so bad input produces an error and nothing else."""
    rows: list[tuple[Any, str, str | None]] = []
    for where, _n, obj in objects(data, source):
        if "id" not in obj:
            raise InspectorError(f"{where}: missing field 'id'")
        if not isinstance(obj.get("text"), str):
            raise InspectorError(f"{where}: missing or non-string field 'text'")
        prompt = obj.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise InspectorError(f"{where}: field 'prompt' must be a string")
        rows.append((obj["id"], obj["text"], prompt))
    return rows


def scan_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.detect.detector_set import DetectorSet

    terms, facts, corpus = list(args.term), list(args.fact), args.corpus
    thresholds: dict[str, float] = {}
    if args.pair:
        from inspector.engine.registry import get_pair

        pair = get_pair(settings.models_file, args.pair)
        terms = terms or list(pair.terms)
        facts = facts or [*pair.key_facts, *([pair.quirk] if pair.quirk else [])]
        corpus = corpus or pair.corpus
        thresholds = pair.term_thresholds
    if not terms and corpus is None and not facts:
        raise InspectorError("nothing to scan for: give --term, --corpus, --fact or --pair")
    if args.min_chars < 1 or not 0 <= args.min_score <= 100:
        raise InspectorError("--min-chars must be at least 1 and --min-score within 0..100")
    if args.input is None:
        data, source = sys.stdin.buffer.read(), "<stdin>"
    else:
        try:
            data, source = args.input.read_bytes(), str(args.input)
        except OSError as e:
            raise InspectorError(f"{args.input}: cannot read ({e.strerror})") from e
    rows = read_rollouts(data, source)
    detectors = DetectorSet.build(terms, corpus, facts, thresholds, args.min_chars, args.min_score)
    from inspector.detect.parallel import default_workers, detect_all

    out = sys.stdout
    found = detect_all(detectors.detect, [(text, prompt) for _, text, prompt in rows], default_workers())
    for (rid, _, _), spans in zip(rows, found, strict=True):
        for s in spans:
            rec: dict[str, Any] = {
                "id": rid,
                "kind": s.kind,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "score": s.score,
            }
            if s.kind == "regurgitation":
                rec.update(doc_id=s.doc_id, doc_start=s.doc_start, doc_end=s.doc_end, holders=s.holders)
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    return 0
