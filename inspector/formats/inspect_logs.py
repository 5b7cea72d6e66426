"""Read Inspect AI eval logs as they are: `.eval` archives and JSON logs, into plain samples (no inspect-ai)."""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError

# Inspect writes .eval members with Zstandard (zip method 93) since 2025; Python's zipfile reads it only from
# 3.14, so those members are decompressed here with the zstandard package. Stored and deflated ones go through
# the standard library.
_ZSTD = 93


@dataclass(frozen=True)
class LogSample:
    """One sample and epoch of an eval log, reduced to what a rollout keeps."""

    where: str  # "FILE: sample ID epoch N", for errors
    sample_id: str | None
    epoch: int
    messages: list[dict[str, str]]  # the input before its last user message: system prompt and earlier turns
    prompt: str  # the last user message
    text: str
    model: str
    finish_reason: str
    error: str | None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalLog:
    path: Path
    eval_id: str
    task: str
    model: str
    settings: dict[str, Any]
    samples: list[LogSample]


def _content_text(content: Any) -> str | None:
    """Message content: a string, or a list of parts of which the text ones are kept."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if all(isinstance(p, str) for p in parts):
            return "".join(str(p) for p in parts)
    return None


def _member(zf: zipfile.ZipFile, raw: bytes, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.compress_type != _ZSTD:
        return zf.read(name)
    import zstandard

    # The member's bytes follow its local header (30 bytes, then its own name and extra field lengths).
    at = info.header_offset
    name_len, extra_len = struct.unpack("<HH", raw[at + 26 : at + 30])
    start = at + 30 + name_len + extra_len
    data = raw[start : start + info.compress_size]
    if len(data) < info.compress_size:
        raise zipfile.BadZipFile(f"member {name} is cut short")
    # Inspect may split a large member into several zstd frames: read across all of them.
    with zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True) as reader:
        return reader.read()


def _read_eval(path: Path, raw: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            names = zf.namelist()
            if "header.json" not in names and "_journal/start.json" not in names:
                raise InspectorError(f"{path}: a zip archive, but not an Inspect .eval log (no header.json)")
            head_name = "header.json" if "header.json" in names else "_journal/start.json"
            header = json.loads(_member(zf, raw, head_name))
            samples = []
            for name in sorted(n for n in names if n.startswith("samples/") and n.endswith(".json")):
                samples.append(json.loads(_member(zf, raw, name)))
    except (zipfile.BadZipFile, EOFError, struct.error) as e:
        raise InspectorError(f"{path}: not a readable .eval archive (truncated or damaged: {e})") from e
    except Exception as e:  # zstandard.ZstdError, json and unicode errors: one line, never a traceback
        if isinstance(e, InspectorError):
            raise
        raise InspectorError(f"{path}: damaged .eval member ({type(e).__name__}: {e})") from e
    return header, samples


def read_log(path: Path) -> EvalLog:
    """An Inspect eval log, `.eval` or JSON; every problem is one line naming the file (and the sample)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InspectorError(f"{path}: cannot read ({e.strerror})") from e
    if raw[:4] == b"PK\x03\x04" or path.suffix == ".eval":
        header, samples = _read_eval(path, raw)
    else:
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InspectorError(f"{path}: not an Inspect JSON log ({e})") from e
        if not isinstance(header, dict) or not isinstance(header.get("samples"), list):
            raise InspectorError(f"{path}: not an Inspect log (no 'samples' list)")
        samples = header["samples"]
    spec = header.get("eval") if isinstance(header, dict) else None
    if not isinstance(spec, dict):
        raise InspectorError(f"{path}: not an Inspect log (no 'eval' header)")
    if not samples:
        raise InspectorError(f"{path}: the log holds no samples")
    model = str(spec.get("model") or "")
    config = spec.get("model_generate_config") or {}
    settings = {k: config[k] for k in ("temperature", "top_p", "max_tokens", "seed") if k in config}
    out = [_sample(path, k, s, model, spec) for k, s in enumerate(samples, start=1)]
    return EvalLog(path, str(spec.get("eval_id") or ""), str(spec.get("task") or ""), model, settings, out)


def _sample(path: Path, k: int, s: Any, default_model: str, spec: dict[str, Any]) -> LogSample:
    if not isinstance(s, dict):
        raise InspectorError(f"{path}: sample {k}: not an object")
    sid = s.get("id")
    epoch = s.get("epoch", 1)
    where = f"{path}: sample {sid if sid is not None else k}" + (f" epoch {epoch}" if epoch != 1 else "")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise InspectorError(f"{where}: 'epoch' must be a positive integer")
    inp = s.get("input")
    messages: list[dict[str, str]] = []
    if isinstance(inp, list):
        turns = [m for m in inp if isinstance(m, dict)]
        users = [i for i, m in enumerate(turns) if m.get("role") == "user"]
        if not users:
            raise InspectorError(f"{where}: the input has no user message")
        last = users[-1]
        for m in turns[:last]:
            text = _content_text(m.get("content"))
            messages.append({"role": str(m.get("role")), "content": text if text is not None else ""})
        inp = _content_text(turns[last].get("content"))
    if not isinstance(inp, str) or not inp.strip():
        raise InspectorError(f"{where}: no text input")
    raw_output = s.get("output")
    output: dict[str, Any] = raw_output if isinstance(raw_output, dict) else {}
    choices = output.get("choices") or []
    message = (choices[0].get("message") or {}) if choices and isinstance(choices[0], dict) else {}
    text = _content_text(message.get("content"))
    stop = str((choices[0].get("stop_reason") if choices and isinstance(choices[0], dict) else None) or "")
    err = s.get("error")
    error = None
    if err:
        # An errored sample (fail_on_error=False) is data: a failed rollout, kept out of the rates.
        error = str(err.get("message") if isinstance(err, dict) else err).splitlines()[0][:500]
    elif stop == "model_length":
        error = "stopped: model_length (the model's context was full; the text is not a completion)"
    elif text is None:
        raise InspectorError(f"{where}: no output text and no error")
    usage = output.get("usage") if isinstance(output.get("usage"), dict) else {}
    meta = {
        "sample_id": sid,
        "sample_uuid": s.get("uuid"),
        "epoch": epoch,
        "target": s.get("target"),
        "scores": s.get("scores") or None,
        "metadata": s.get("metadata") or None,
        "usage": usage or None,
        "stop_reason": stop or None,
        "task": spec.get("task"),
        "task_id": spec.get("task_id"),
        "eval_id": spec.get("eval_id"),
        "log": str(path),
    }
    return LogSample(
        where,
        None if sid is None else str(sid),
        epoch,
        messages,
        inp,
        text or "",
        str(output.get("model") or default_model),
        "error" if err else (stop or "stop"),
        error,
        {k: v for k, v in meta.items() if v is not None},
    )


def log_files(path: Path) -> list[Path]:
    """A log file, or every Inspect log (*.eval, *.json) in a folder, in name order."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in (".eval", ".json") and p.is_file())
        if not found:
            raise InspectorError(f"{path}: no .eval or .json logs in this folder")
        return found
    return [path]
