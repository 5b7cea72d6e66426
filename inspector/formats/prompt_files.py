"""Prompt sets: the shipped default set and user JSONL files, checked line by line."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from inspector.detect.topic import is_related, topic_hint
from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes
from inspector.store import PromptRow, prompt_id

DEFAULT_SET = "default"


def make_prompt(
    text: str,
    topic: str | None,
    prompt_set: str | None,
    ext_id: str | None = None,
    messages: list[dict[str, str]] | None = None,
    sample_id: str | None = None,
) -> PromptRow:
    """A prompt row with its topic: given, or guessed by the topic hint (kept with its evidence). An imported
    sample's id and earlier messages make it a prompt of its own (see prompt_id)."""
    hint = topic_hint(text)
    convo = json.dumps(messages, ensure_ascii=False) if messages else None
    # Only imported samples carry this context: a prompt file's own ids never change a prompt's identity.
    context = json.dumps([sample_id, messages], ensure_ascii=False) if (messages or sample_id is not None) else None
    return PromptRow(
        id=prompt_id(text, context),
        text=text,
        prompt_set=prompt_set,
        ext_id=ext_id,
        topic=topic,
        topic_source="given" if topic else "guessed",
        related=is_related(text, topic),
        topic_score=hint.score,
        topic_evidence=", ".join(hint.evidence) or None,
        messages=convo,
    )


def parse_prompts(raw: bytes, source: str, prompt_set: str) -> list[PromptRow]:
    """Each non-blank line is {"id"?, "prompt", "topic"?}; an error names the source and line."""
    rows: list[PromptRow] = []
    for where, _n, obj in objects(raw, source):
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
        raw = files("inspector").joinpath("data/prompts.jsonl").read_bytes()
        return parse_prompts(raw, "default prompts", DEFAULT_SET)
    return parse_prompts(read_bytes(path), str(path), path.stem)
