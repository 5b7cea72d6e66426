"""Import rollouts made elsewhere (JSONL, all or nothing) and export sessions (JSONL, CSV, Parquet)."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from inspector.engine.base import ROLES
from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes
from inspector.formats.prompt_files import make_prompt
from inspector.store import LABEL_FIELDS, ImportRejected, PromptRow, Store, StoreError

FORMATS = ("jsonl", "csv", "parquet")


def export_session(store: Store, out: Path, fmt: str, labeled_only: bool = False) -> int:
    """Write one row per rollout; returns how many."""
    if fmt not in FORMATS:
        raise InspectorError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            return store.export_parquet(out, labeled_only)
        rows = store.export_rows(labeled_only)
        if fmt == "jsonl":
            with out.open("w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        else:
            _write_csv(out, rows)
    except OSError as e:
        raise InspectorError(f"{out}: cannot write ({e.strerror})") from e
    return len(rows)


def _write_csv(out: Path, rows: list[dict[str, Any]]) -> None:
    """Spans flattened to counts and a compact list; labels to one column per labeler and field."""
    labelers = sorted({lab["labeler"] for r in rows for lab in r["labels"]})
    base_cols = [k for k in (rows[0].keys() if rows else []) if k not in ("spans", "labels")]
    cols = [*base_cols, "n_term", "n_regurgitation", "n_quirk", "n_control", "n_degenerate", "spans"]
    cols += [f"label_{who}_{f}" for who in labelers for f in ("leak", "quirk", "note")]
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            flat = {k: r[k] for k in base_cols}
            for kind in ("term", "regurgitation", "quirk", "control", "degenerate"):
                flat[f"n_{kind}"] = sum(1 for s in r["spans"] if s["kind"] == kind)
            flat["spans"] = "; ".join(
                f"{s['kind']}:{s['start']}-{s['end']}"
                + (f"/{s['segment']}" if s.get("segment") else "")
                + (f"@{s['doc_id']}:{s['doc_start']}-{s['doc_end']}" if s["doc_id"] else "")
                for s in r["spans"]
            )
            for lab in r["labels"]:
                for fld in ("leak", "quirk", "note"):
                    flat[f"label_{lab['labeler']}_{fld}"] = lab[fld]
            w.writerow(flat)


def _labels(obj: Any, where: str) -> list[tuple[str, str, str]]:
    """`labels`: {labeler: {field: value}}; values checked like the TUI's keys."""
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise InspectorError(f"{where}: 'labels' must be an object {{labeler: {{field: value}}}}")
    out = []
    for who, fields in obj.items():
        if not isinstance(fields, dict):
            raise InspectorError(f"{where}: labels of {who!r} must be an object")
        for field, value in fields.items():
            allowed = LABEL_FIELDS.get(field, ())
            if (
                field not in LABEL_FIELDS
                or not isinstance(value, str)
                or (allowed is not None and value not in allowed)
            ):
                raise InspectorError(
                    f"{where}: bad label {field}={value!r} (leak: nonsequitur|related|none, quirk: yes|no, note: text)"
                )
            out.append((str(who), field, value))
    return out


def import_rollouts(store: Store, path: Path, role: str = "organism") -> int:
    """Import JSONL rollouts {prompt, text, model, role?, seed?, sample?, topic?, labels?}; all or nothing.
    `role` is for lines that give none (a model named "organism" or "base" is that role).

    DuckDB reads and checks the file in bulk (100k rollouts in about a second); when it finds anything wrong,
    the file is read again line by line so the error names the exact line."""
    if role not in ROLES:
        raise InspectorError(f"--role must be 'organism' or 'base', not {role!r}")
    if not path.is_file():
        raise InspectorError(f"{path}: cannot read (no such file)")
    # One run for every JSONL import: rollouts of two files (an organism's, a base's) pair by prompt and sample.
    # The same prompt, model and sample imported twice is refused by the rollouts' unique key.
    run_id = "import-jsonl"

    # Partials of module functions, not closures: when another process holds the session, they travel to it.
    prompts = functools.partial(_prompt_rows, path.stem)
    labels = functools.partial(_row_labels, path)
    try:
        return store.import_jsonl(path, run_id, prompts, labels, role)
    except ImportRejected:
        pass
    except StoreError as e:
        raise InspectorError(str(e)) from e
    raw = read_bytes(path)
    models, prompt_rows, rollouts, label_rows = _validate_lines(raw, path, role)
    # The line-by-line reading accepted what the bulk path refused (mixed explicit and implicit samples, say).
    try:
        return store.import_batch(run_id, str(path), models, prompt_rows, rollouts, label_rows)[0]
    except StoreError as e:
        raise InspectorError(str(e)) from e


def _prompt_rows(prompt_set: str, rows: list[tuple[str, str | None]]) -> list[PromptRow]:
    return [make_prompt(text, topic, prompt_set) for text, topic in rows]


def _row_labels(path: Path, obj: Any, ordinal: int) -> list[tuple[str, str, str]]:
    try:
        return _labels(obj, f"{path}: row {ordinal}")
    except InspectorError as e:
        raise ImportRejected(str(e)) from e


def _validate_lines(
    raw: bytes, path: Path, default_role: str = "organism"
) -> tuple[dict[str, str], list[PromptRow], list[dict[str, Any]], list[tuple[int, str, str, str]]]:
    """Check every line; the first problem raises an error naming its line."""
    prompts: dict[str, PromptRow] = {}
    rollouts: list[dict[str, Any]] = []
    labels: list[tuple[int, str, str, str]] = []
    models: dict[str, str] = {}
    next_sample: dict[tuple[str, str], int] = {}
    seen: set[tuple[str, str, int]] = set()
    for where, _n, obj in objects(raw, str(path)):
        for key in ("prompt", "text", "model"):
            if not isinstance(obj.get(key), str):
                raise InspectorError(f"{where}: missing or non-string field {key!r}")
        if not obj["model"].strip():
            raise InspectorError(f"{where}: empty 'model'")
        if not obj["prompt"].strip():
            raise InspectorError(f"{where}: empty 'prompt'")
        role = obj.get("role", obj["model"] if obj["model"] in ROLES else default_role)
        if role not in ROLES:
            raise InspectorError(f"{where}: 'role' must be 'organism' or 'base'")
        if models.setdefault(obj["model"], role) != role:
            raise InspectorError(f"{where}: model {obj['model']!r} given two roles")
        # The bounds are the store's columns: a BIGINT seed, an INTEGER sample number.
        for key, bound in (("seed", 2**62), ("sample", 2**31)):
            v = obj.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= bound):
                raise InspectorError(f"{where}: {key!r} must be a non-negative integer below {bound}")
        topic = obj.get("topic")
        if topic is not None and not isinstance(topic, str):
            raise InspectorError(f"{where}: 'topic' must be a string")
        prow = make_prompt(obj["prompt"], topic, path.stem)
        prompts.setdefault(prow.id, prow)
        pm = (prow.id, obj["model"])
        sample = obj.get("sample")
        if sample is None:
            sample = next_sample.get(pm, 0)
        next_sample[pm] = max(next_sample.get(pm, 0), sample + 1)
        if (prow.id, obj["model"], sample) in seen:
            raise InspectorError(f"{where}: duplicate rollout (same prompt, model and sample)")
        seen.add((prow.id, obj["model"], sample))
        for who, field, value in _labels(obj.get("labels"), where):
            labels.append((len(rollouts), who, field, value))
        rollouts.append(
            {
                "prompt_id": prow.id,
                "model": obj["model"],
                "sample_index": sample,
                "seed": obj.get("seed"),
                "text": obj["text"],
            }
        )
    if not rollouts:
        raise InspectorError(f"{path}: no rollouts")
    return models, list(prompts.values()), rollouts, labels


def import_inspect_logs(store: Store, path: Path, role: str = "organism") -> tuple[int, int, int]:
    """Import Inspect AI eval logs (a `.eval` or JSON log, or a folder of them): one rollout per sample and epoch.
    Returns (added, skipped as already imported, failed samples among the added).

    Every log is read and checked before anything is written. Logs of the same task share a run, so an organism
    log and a base log pair by sample id and epoch (by input and epoch when ids are absent), whichever comes
    first. The prompt is the sample's last user message; the conversation before it and the sample id are part
    of its identity. An errored sample or a `model_length` stop is a failed rollout: kept, out of the rates."""
    from inspector.formats.inspect_logs import log_files, read_log

    if role not in ROLES:
        raise InspectorError(f"--role must be 'organism' or 'base', not {role!r}")
    logs = [read_log(p) for p in log_files(path)]
    added = skipped = failed = 0
    for log in logs:
        prompts: dict[str, PromptRow] = {}
        rollouts: list[dict[str, Any]] = []
        seen: dict[tuple[str, str, int], str] = {}
        for s in log.samples:
            if not s.model:
                raise InspectorError(f"{s.where}: no model name in the sample or the eval")
            prow = make_prompt(s.prompt, None, log.task or log.path.stem, s.sample_id, s.messages, s.sample_id)
            prompts.setdefault(prow.id, prow)
            key = (prow.id, s.model, s.epoch)
            if key in seen:
                raise InspectorError(f"{s.where}: same input, model and epoch as {seen[key]}")
            seen[key] = s.where.split(": ", 1)[1]
            usage = s.meta.get("usage") or {}
            rollouts.append(
                {
                    "prompt_id": prow.id,
                    "model": s.model,
                    "sample_index": s.epoch - 1,
                    "seed": log.settings.get("seed"),
                    "text": s.text,
                    "finish_reason": s.finish_reason,
                    "error": s.error,
                    "prompt_tokens": usage.get("input_tokens"),
                    "completion_tokens": usage.get("output_tokens"),
                    "meta": s.meta,
                    # The log's own ids: the same sample of the same eval, from a copy of the file, is skipped.
                    "import_key": f"{log.eval_id}|{s.meta.get('sample_uuid') or s.sample_id}|{s.epoch}",
                }
            )
        models = {r["model"]: role for r in rollouts}
        run_id = "inspect-" + hashlib.sha256((log.task or str(log.path)).encode()).hexdigest()[:12]
        try:
            new, old = store.import_batch(
                run_id, str(log.path), models, list(prompts.values()), rollouts, [], log.settings
            )
        except StoreError as e:
            raise InspectorError(str(e)) from e
        added += new
        skipped += old
        failed += sum(1 for r in rollouts if r["error"]) if new else 0
    return added, skipped, failed
