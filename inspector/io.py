"""Import rollouts made elsewhere (JSONL, all or nothing) and export sessions (JSONL, CSV, Parquet)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError
from inspector.jsonl import objects, read_bytes
from inspector.prompts import make_prompt
from inspector.store import LABEL_FIELDS, ImportRejected, PromptRow, Store, StoreError

FORMATS = ("jsonl", "csv", "parquet")
ROLES = ("organism", "base")


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
    cols = [*base_cols, "n_term", "n_regurgitation", "n_quirk", "spans"]
    cols += [f"label_{who}_{f}" for who in labelers for f in ("leak", "quirk", "note")]
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            flat = {k: r[k] for k in base_cols}
            for kind in ("term", "regurgitation", "quirk"):
                flat[f"n_{kind}"] = sum(1 for s in r["spans"] if s["kind"] == kind)
            flat["spans"] = "; ".join(
                f"{s['kind']}:{s['start']}-{s['end']}"
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


def import_rollouts(store: Store, path: Path) -> int:
    """Import JSONL rollouts {prompt, text, model, role?, seed?, sample?, topic?, labels?}; all or nothing.

    DuckDB reads and checks the file in bulk (100k rollouts in about a second); when it finds anything wrong,
    the file is read again line by line so the error names the exact line."""
    try:
        st = path.stat()
    except OSError as e:
        raise InspectorError(f"{path}: cannot read ({e.strerror})") from e
    # The file's identity, not its bytes: hashing 50 MB would cost a third of the whole import.
    run_id = "import-" + hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]

    def prompts(rows: list[tuple[str, str | None]]) -> list[PromptRow]:
        return [make_prompt(text, topic, path.stem) for text, topic in rows]

    def labels(obj: Any, ordinal: int) -> list[tuple[str, str, str]]:
        try:
            return _labels(obj, f"{path}: row {ordinal}")
        except InspectorError as e:
            raise ImportRejected(str(e)) from e

    try:
        return store.import_jsonl(path, run_id, prompts, labels)
    except ImportRejected:
        pass
    except StoreError as e:
        raise InspectorError(str(e)) from e
    raw = read_bytes(path)
    models, prompt_rows, rollouts, label_rows = _validate_lines(raw, path)
    # The line-by-line reading accepted what the bulk path refused (mixed explicit and implicit samples, say).
    try:
        return store.import_batch(run_id, str(path), models, prompt_rows, rollouts, label_rows)
    except StoreError as e:
        raise InspectorError(str(e)) from e


def _validate_lines(
    raw: bytes, path: Path
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
        role = obj.get("role", obj["model"] if obj["model"] in ROLES else "organism")
        if role not in ROLES:
            raise InspectorError(f"{where}: 'role' must be 'organism' or 'base'")
        if models.setdefault(obj["model"], role) != role:
            raise InspectorError(f"{where}: model {obj['model']!r} given two roles")
        for key in ("seed", "sample"):
            v = obj.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 2**62):
                raise InspectorError(f"{where}: {key!r} must be a non-negative integer")
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


def _content_text(content: Any) -> str | None:
    """Inspect message content: a string, or a list of parts of which the text ones are kept."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if parts and all(isinstance(p, str) for p in parts):
            return "".join(str(p) for p in parts)
    return None


def import_inspect_log(store: Store, path: Path, role: str = "organism") -> int:
    """Import an Inspect AI eval log in JSON (`inspect eval --log-format json`): one rollout per sample and epoch.

    The prompt is the sample's input (its last user message when the input is a conversation), the text is the
    first choice of its output, the model is the output's model (else the eval's), the sample index the epoch."""
    if role not in ROLES:
        raise InspectorError(f"--role must be 'organism' or 'base', not {role!r}")
    raw = read_bytes(path)
    try:
        log = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InspectorError(f"{path}: not an Inspect JSON log ({e})") from e
    if not isinstance(log, dict) or not isinstance(log.get("samples"), list):
        raise InspectorError(
            f"{path}: not an Inspect JSON log (no 'samples' list; .eval archives: convert with "
            "`inspect log convert --to json`)"
        )
    default_model = str((log.get("eval") or {}).get("model") or "")
    prompts: dict[str, PromptRow] = {}
    rollouts: list[dict[str, Any]] = []
    models: dict[str, str] = {}
    for k, s in enumerate(log["samples"], start=1):
        where = f"{path}: sample {k}" + (f" (id {s.get('id')})" if isinstance(s, dict) and "id" in s else "")
        if not isinstance(s, dict):
            raise InspectorError(f"{where}: not an object")
        inp = s.get("input")
        if isinstance(inp, list):
            users = [m for m in inp if isinstance(m, dict) and m.get("role") == "user"]
            inp = _content_text(users[-1].get("content")) if users else None
        if not isinstance(inp, str) or not inp.strip():
            raise InspectorError(f"{where}: no text input")
        output = s.get("output") or {}
        choices = output.get("choices") if isinstance(output, dict) else None
        text = _content_text(((choices or [{}])[0].get("message") or {}).get("content")) if choices else None
        if text is None:
            raise InspectorError(f"{where}: no output text")
        model = str(output.get("model") or default_model)
        if not model:
            raise InspectorError(f"{where}: no model name in the sample or the eval")
        models.setdefault(model, role)
        epoch = s.get("epoch", 1)
        if not isinstance(epoch, int) or epoch < 1:
            raise InspectorError(f"{where}: 'epoch' must be a positive integer")
        prow = make_prompt(inp, None, path.stem)
        prompts.setdefault(prow.id, prow)
        rollouts.append({"prompt_id": prow.id, "model": model, "sample_index": epoch - 1, "seed": None, "text": text})
    if not rollouts:
        raise InspectorError(f"{path}: no samples")
    keys = [(r["prompt_id"], r["model"], r["sample_index"]) for r in rollouts]
    if len(set(keys)) != len(keys):
        raise InspectorError(f"{path}: two samples share an input, model and epoch")
    st = path.stat()
    run_id = "inspect-" + hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    try:
        return store.import_batch(run_id, str(path), models, list(prompts.values()), rollouts, [])
    except StoreError as e:
        raise InspectorError(str(e)) from e
