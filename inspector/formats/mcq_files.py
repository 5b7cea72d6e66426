"""Multiple-choice question files: MMLU's CSV layout (`question,A,B,C,D,answer`, no header, the subject in the file
name; a directory of them) and JSONL `{"id"?, "subject"?, "question", "choices", "answer"}`, checked line by line
(the shipped set when no file is given)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError
from inspector.formats.jsonl import objects, read_bytes

LETTERS = "ABCDEFGHIJ"  # MMLU has 4 choices, MMLU-Pro up to 10
SHIPPED = "mcq_questions.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    subject: str
    question: str
    choices: tuple[str, ...]
    answer: int  # index into choices

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.choices)]


def _check_choices(where: str, choices: Any) -> tuple[str, ...]:
    if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
        raise InspectorError(f"{where}: 'choices' must be a list of non-empty strings")
    if len(choices) < 2:
        raise InspectorError(f"{where}: a question needs at least 2 choices ({len(choices)} here)")
    if len(choices) > len(LETTERS):
        raise InspectorError(f"{where}: at most {len(LETTERS)} choices (A-J), {len(choices)} here")
    return tuple(c.strip() for c in choices)


def _answer_index(where: str, answer: Any, choices: tuple[str, ...]) -> int:
    """An answer given as an index (0-based, as MMLU's datasets store it), a letter, or the right choice's text."""
    letters = LETTERS[: len(choices)]
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(choices):
        return answer
    if isinstance(answer, str):
        a = answer.strip()
        if len(a) == 1 and a.upper() in letters:
            return letters.index(a.upper())
        if a in choices:
            return choices.index(a)
    raise InspectorError(
        f"{where}: the answer {answer!r} is not one of its {len(choices)} choices"
        f" (a letter {letters[0]}-{letters[-1]}, an index 0-{len(choices) - 1}, or a choice's text)"
    )


def _from_jsonl(raw: bytes, source: str) -> list[Question]:
    out = []
    for where, n, obj in objects(raw, source):
        question = obj.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InspectorError(f"{where}: each line needs a non-empty 'question'")
        choices = _check_choices(where, obj.get("choices"))
        subject = obj.get("subject", "general")
        if not isinstance(subject, str) or not subject.strip():
            raise InspectorError(f"{where}: 'subject' must be a non-empty string")
        answer = _answer_index(where, obj.get("answer"), choices)
        out.append(Question(str(obj.get("id", f"q-{n}")), subject.strip(), question.strip(), choices, answer))
    return out


def _subject(path: Path) -> str:
    """MMLU names its files <subject>_test.csv (and _dev, _val)."""
    stem = path.stem
    for tail in ("_test", "_dev", "_val"):
        stem = stem.removesuffix(tail)
    return stem


def _from_csv(raw: bytes, path: Path) -> list[Question]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InspectorError(f"{path}: not UTF-8") from e
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[Question] = []
    subject = _subject(path)
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if reader.line_num == 1 and [c.strip().lower() for c in row] == ["question", *"abcd", "answer"]:
                continue  # a header some copies add
            if len(row) < 4:
                raise InspectorError(
                    f"{where}: expected question, at least 2 choices and the answer letter ({len(row)} columns)"
                )
            question, *cells, answer = row
            if not question.strip():
                raise InspectorError(f"{where}: the question is empty")
            choices = _check_choices(where, cells)
            index = _answer_index(where, answer, choices)
            out.append(Question(f"{subject}-{len(out) + 1}", subject, question.strip(), choices, index))
    except csv.Error as e:
        raise InspectorError(f"{path}:{reader.line_num}: not CSV ({e})") from e
    return out


def load_questions(path: Path | None = None) -> list[Question]:
    """The questions of a JSONL file, an MMLU CSV, or a directory of MMLU CSVs (by name); the shipped set when no
    path is given. A bad line is one error naming the file and line."""
    if path is None:
        raw = (resources.files("inspector") / "data" / SHIPPED).read_bytes()
        questions = _from_jsonl(raw, f"{SHIPPED} (shipped)")
    elif path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise InspectorError(f"{path}: a directory with no .csv files (MMLU's layout is <subject>_test.csv)")
        questions = [q for f in files for q in _from_csv(read_bytes(f), f)]
    elif path.suffix.lower() == ".csv":
        questions = _from_csv(read_bytes(path), path)
    else:
        questions = _from_jsonl(read_bytes(path), str(path))
    if not questions:
        raise InspectorError(f"{path or SHIPPED}: no questions (the file is empty)")
    seen: dict[str, int] = {}
    for q in questions:
        seen[q.id] = seen.get(q.id, 0) + 1
    twice = [i for i, c in seen.items() if c > 1]
    if twice:
        raise InspectorError(f"{path}: the question id {twice[0]!r} is used {seen[twice[0]]} times")
    return questions
