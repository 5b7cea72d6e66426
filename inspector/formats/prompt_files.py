"""Prompt sets: the shipped default set and user JSONL files, checked line by line."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from inspector.detect.topic import is_related, topic_hint
from inspector.engine.base import CHAT_ROLES
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


def _conversation(obj: dict[str, object], where: str) -> tuple[str, list[dict[str, str]]]:
    """The prompt and the turns before it: "prompt" after "messages", or the last user message of "messages";
    a "system" string goes first."""
    raw = obj.get("messages")
    turns: list[dict[str, str]] = []
    if raw is not None:
        if not isinstance(raw, list) or not raw:
            raise InspectorError(f"{where}: 'messages' must be a non-empty list of {{role, content}}")
        for k, m in enumerate(raw):
            if not isinstance(m, dict) or not isinstance(m.get("content"), str) or set(m) - {"role", "content"}:
                raise InspectorError(f'{where}: messages[{k}] must be {{"role", "content"}} with string content')
            if m.get("role") not in CHAT_ROLES:
                raise InspectorError(
                    f"{where}: messages[{k}] has unknown role {m.get('role')!r} (known: system, user, assistant)"
                )
            turns.append({"role": str(m["role"]), "content": str(m["content"])})
    text = obj.get("prompt")
    if text is None and turns:
        if turns[-1]["role"] != "user":
            raise InspectorError(f"{where}: 'messages' must end with a user turn (the prompt), or give 'prompt'")
        text = turns.pop()["content"]
    if not isinstance(text, str) or not text.strip():
        raise InspectorError(f"{where}: missing or empty 'prompt' string")
    system = obj.get("system")
    if system is not None:
        if not isinstance(system, str) or not system.strip():
            raise InspectorError(f"{where}: 'system' must be a non-empty string")
        if any(t["role"] == "system" for t in turns):
            raise InspectorError(f"{where}: give the system prompt once, in 'system' or in 'messages'")
        turns.insert(0, {"role": "system", "content": system})
    if any(t["role"] == "system" for t in turns[1:]):
        raise InspectorError(f"{where}: a system message must come first")
    return text, turns


def with_system(rows: list[PromptRow], system: str | None) -> list[PromptRow]:
    """The prompts under a run's system prompt: a prompt that brings its own keeps it; every other one gets this
    one before its turns, and so becomes a prompt of its own (the same one a file line with "system" makes)."""
    if not system:
        return rows
    out = []
    for row in rows:
        turns = json.loads(row.messages) if row.messages else []
        if any(t.get("role") == "system" for t in turns):
            out.append(row)
            continue
        turns = [{"role": "system", "content": system}, *turns]
        out.append(
            make_prompt(row.text, row.topic if row.topic_source == "given" else None, row.prompt_set, row.ext_id, turns)
        )
    return out


def parse_prompts(raw: bytes, source: str, prompt_set: str, pair_format: str = "chat") -> list[PromptRow]:
    """Each non-blank line is {"id"?, "prompt", "topic"?, "system"?, "messages"?}; an error names the source and
    line. For a raw-format pair a conversation is refused: raw text has nowhere to put it."""
    rows: list[PromptRow] = []
    for where, _n, obj in objects(raw, source):
        text, turns = _conversation(obj, where)
        if turns and pair_format == "raw":
            raise InspectorError(
                f"{where}: a system prompt or earlier turns need a chat-format pair (this pair is raw completion)"
            )
        topic = obj.get("topic")
        if topic is not None and not isinstance(topic, str):
            raise InspectorError(f"{where}: 'topic' must be a string")
        ext = obj.get("id")
        rows.append(make_prompt(text, topic, prompt_set, str(ext) if ext is not None else None, turns or None))
    if not rows:
        raise InspectorError(f"{source}: no prompts")
    return rows


def load_prompts(path: Path | None, pair_format: str = "chat") -> list[PromptRow]:
    """The default set when path is None, else the user's JSONL file."""
    if path is None:
        raw = files("inspector").joinpath("data/prompts.jsonl").read_bytes()
        return parse_prompts(raw, "default prompts", DEFAULT_SET)
    return parse_prompts(read_bytes(path), str(path), path.stem, pair_format)
