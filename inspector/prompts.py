"""Prompt sets: the shipped default set and user JSONL files, checked line by line."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from inspector.detect.topic import is_related, topic_hint
from inspector.errors import InspectorError
from inspector.store.session import PromptRow, prompt_id

DEFAULT_SET = "default"


def make_prompt(text: str, topic: str | None, prompt_set: str | None, ext_id: str | None = None) -> PromptRow:
    """A prompt row with its topic: given, or guessed by the topic hint (kept with its evidence)."""
    hint = topic_hint(text)
    return PromptRow(
        id=prompt_id(text),
        text=text,
        prompt_set=prompt_set,
        ext_id=ext_id,
        topic=topic,
        topic_source="given" if topic else "guessed",
        related=is_related(text, topic),
        topic_score=hint.score,
        topic_evidence=", ".join(hint.evidence) or None,
    )


def parse_prompt_lines(lines: list[str], source: str, prompt_set: str) -> list[PromptRow]:
    """Each non-blank line is {"id"?, "prompt", "topic"?}; an error names the source and line."""
    rows: list[PromptRow] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InspectorError(f"{where}: invalid JSON ({e.msg})") from e
        if not isinstance(obj, dict):
            raise InspectorError(f"{where}: expected a JSON object")
        text = obj.get("prompt")
        if not isinstance(text, str) or not text.strip():
            raise InspectorError(f"{where}: missing or empty 'prompt' string")
        topic = obj.get("topic")
        if topic is not None and not isinstance(topic, str):
            raise InspectorError(f"{where}: 'topic' must be a string")
        ext = obj.get("id")
        rows.append(make_prompt(text, topic, prompt_set, str(ext) if ext is not None else None))
    if not rows:
        raise InspectorError(f"{source}: no prompts")
    return rows


def load_prompts(path: Path | None) -> list[PromptRow]:
    """The default set when path is None, else the user's JSONL file."""
    if path is None:
        text = files("inspector").joinpath("data/prompts.jsonl").read_text(encoding="utf-8")
        return parse_prompt_lines(text.splitlines(), "default prompts", DEFAULT_SET)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InspectorError(f"{path}: cannot read ({e.strerror})") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InspectorError(f"{path}:{line}: not UTF-8") from e
    return parse_prompt_lines(text.splitlines(), str(path), path.stem)
