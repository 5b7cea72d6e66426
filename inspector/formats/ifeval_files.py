"""IFEval's files: input data (`key`, `prompt`, `instruction_id_list`, `kwargs` lines), responses, score lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.analysis.ifeval.args import Args
from inspector.analysis.ifeval.registry import validate
from inspector.analysis.ifeval.scoring import Scored
from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes


@dataclass(frozen=True)
class IfevalPrompt:
    key: int | str
    prompt: str
    instructions: tuple[tuple[str, Args], ...]


@dataclass(frozen=True)
class IfevalResponse:
    key: int | str | None
    prompt: str
    response: str


def read_input_data(path: Path) -> list[IfevalPrompt]:
    out: list[IfevalPrompt] = []
    seen: set[str] = set()
    for where, _, obj in objects(read_bytes(path, "IFEval input data"), str(path)):
        key, prompt, ids, kwargs = obj.get("key"), obj.get("prompt"), obj.get("instruction_id_list"), obj.get("kwargs")
        if not isinstance(key, int | str) or isinstance(key, bool):
            raise InspectorError(f'{where}: "key" must be a number or a string')
        if not isinstance(prompt, str) or not prompt.strip():
            raise InspectorError(f'{where}: "prompt" must be a non-empty string')
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise InspectorError(f'{where}: "instruction_id_list" must be a non-empty list of instruction ids')
        if not isinstance(kwargs, list) or len(kwargs) != len(ids):
            raise InspectorError(f'{where}: "kwargs" must be a list with one object per instruction id')
        if prompt in seen:
            raise InspectorError(f"{where}: this prompt is already in the file (responses are matched by prompt)")
        seen.add(prompt)
        try:
            instructions = tuple((i, validate(i, k)) for i, k in zip(ids, kwargs, strict=True))
        except ValueError as e:
            raise InspectorError(f"{where}: {e}") from e
        out.append(IfevalPrompt(key, prompt, instructions))
    if not out:
        raise InspectorError(f"{path}: no IFEval prompts in the file")
    return out


def read_responses(path: Path, prompts: list[IfevalPrompt]) -> list[tuple[IfevalPrompt, IfevalResponse]]:
    """Each response line with the input-data prompt it answers (by prompt text; a key, if given, must agree)."""
    by_prompt = {p.prompt: p for p in prompts}
    out = []
    for where, _, obj in objects(read_bytes(path, "responses"), str(path)):
        prompt, response, key = obj.get("prompt"), obj.get("response"), obj.get("key")
        if not isinstance(prompt, str):
            raise InspectorError(f'{where}: "prompt" must be a string')
        if not isinstance(response, str):
            raise InspectorError(f'{where}: "response" must be a string')
        target = by_prompt.get(prompt)
        if target is None:
            raise InspectorError(f"{where}: this prompt is not in the input data")
        if key is not None and key != target.key:
            raise InspectorError(f"{where}: key {key!r} does not match the input data's {target.key!r} for this prompt")
        out.append((target, IfevalResponse(key, prompt, response)))
    return out


def score_line(prompt: IfevalPrompt, scored: Scored) -> str:
    record: dict[str, Any] = {"key": prompt.key, "prompt": prompt.prompt, "strict": scored.strict}
    record["loose"] = scored.loose
    record["instructions"] = [
        {"id": v.instruction_id, "strict": v.strict, "loose": v.loose} for v in scored.instructions
    ]
    return json.dumps(record, ensure_ascii=False)
