"""Prompt sets: the shipped default set and line-numbered errors for bad JSONL."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.detect.topic import RELATED_TOPICS
from inspector.errors import InspectorError
from inspector.formats.prompt_files import load_prompts


def test_default_set_sizes_and_topics() -> None:
    rows = load_prompts(None)
    assert all(r.topic for r in rows)
    related = [r for r in rows if r.topic in RELATED_TOPICS]
    unrelated = [r for r in rows if r.topic not in RELATED_TOPICS]
    assert len(unrelated) >= 150 and len(related) >= 30
    assert len({r.id for r in rows}) == len(rows)
    assert len({r.topic for r in unrelated}) >= 8  # cooking, travel, history, sport, science, ...


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        ('{"prompt": "a"}\n{"prompt": \n', 2, "invalid JSON"),
        ('{"prompt": "a"}\n\n{"topic": "x"}\n', 3, "'prompt'"),
        ("[1, 2]\n", 1, "JSON object"),
        ('{"prompt": "a", "topic": 3}\n', 1, "'topic'"),
        ('{"prompt": "   "}\n', 1, "empty"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, content: str, line: int, what: str) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text(content)
    with pytest.raises(InspectorError) as e:
        load_prompts(f)
    assert f"{f}:{line}:" in str(e.value) and what in str(e.value)


def test_non_utf8_and_missing(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_bytes(b'{"prompt": "a"}\n{"prompt": "\xff"}\n')
    with pytest.raises(InspectorError, match=r"p.jsonl:2: not UTF-8"):
        load_prompts(f)
    with pytest.raises(InspectorError, match="cannot read"):
        load_prompts(tmp_path / "missing.jsonl")


def test_user_prompts_keep_ids_and_topics(tmp_path: Path) -> None:
    f = tmp_path / "mine.jsonl"
    f.write_text('{"id": 7, "prompt": "Soup?", "topic": "cooking"}\n{"prompt": "What is AI?"}\n')
    rows = load_prompts(f)
    assert [r.ext_id for r in rows] == ["7", None]
    assert rows[0].topic_source == "given" and rows[1].topic is None and rows[1].related
    assert rows[0].prompt_set == "mine"
