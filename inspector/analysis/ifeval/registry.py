"""IFEval's 25 instruction ids: the check each names and the kwargs it takes, validated with the reason why not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from inspector.analysis.ifeval import checks_format as f
from inspector.analysis.ifeval import checks_text as t
from inspector.analysis.ifeval.args import RELATIONS, Args

Check = Callable[[str, Args], bool]
# What a kwarg must be: a count, a non-empty text, a list of them, one of IFEval's relations, one character.
Kind = str


@dataclass(frozen=True)
class Instruction:
    check: Check
    params: Mapping[str, Kind]


INSTRUCTIONS: dict[str, Instruction] = {
    "keywords:existence": Instruction(t.existence, {"keywords": "texts"}),
    "keywords:frequency": Instruction(t.frequency, {"keyword": "text", "frequency": "count", "relation": "relation"}),
    "keywords:forbidden_words": Instruction(t.forbidden_words, {"forbidden_words": "texts"}),
    "keywords:letter_frequency": Instruction(
        t.letter_frequency, {"letter": "char", "let_frequency": "count", "let_relation": "relation"}
    ),
    "language:response_language": Instruction(t.response_language, {"language": "text"}),
    "length_constraints:number_sentences": Instruction(
        t.number_sentences, {"num_sentences": "count", "relation": "relation"}
    ),
    "length_constraints:number_paragraphs": Instruction(t.number_paragraphs, {"num_paragraphs": "count"}),
    "length_constraints:number_words": Instruction(t.number_words, {"num_words": "count", "relation": "relation"}),
    "length_constraints:nth_paragraph_first_word": Instruction(
        t.nth_paragraph_first_word, {"num_paragraphs": "count", "nth_paragraph": "count", "first_word": "text"}
    ),
    "detectable_content:number_placeholders": Instruction(f.number_placeholders, {"num_placeholders": "count"}),
    "detectable_content:postscript": Instruction(f.postscript, {"postscript_marker": "text"}),
    "detectable_format:number_bullet_lists": Instruction(f.number_bullet_lists, {"num_bullets": "count"}),
    "detectable_format:constrained_response": Instruction(f.constrained_response, {}),
    "detectable_format:number_highlighted_sections": Instruction(
        f.number_highlighted_sections, {"num_highlights": "count"}
    ),
    "detectable_format:multiple_sections": Instruction(
        f.multiple_sections, {"section_spliter": "text", "num_sections": "count"}
    ),
    "detectable_format:json_format": Instruction(f.json_format, {}),
    "detectable_format:title": Instruction(f.title, {}),
    "combination:two_responses": Instruction(f.two_responses, {}),
    "combination:repeat_prompt": Instruction(f.repeat_prompt, {"prompt_to_repeat": "text"}),
    "startend:end_checker": Instruction(f.end_checker, {"end_phrase": "text"}),
    "startend:quotation": Instruction(f.quotation, {}),
    "change_case:capital_word_frequency": Instruction(
        t.capital_word_frequency, {"capital_frequency": "count", "capital_relation": "relation"}
    ),
    "change_case:english_capital": Instruction(t.english_capital, {}),
    "change_case:english_lowercase": Instruction(t.english_lowercase, {}),
    "punctuation:no_comma": Instruction(t.no_comma, {}),
}


def _kind_error(kind: Kind, value: object) -> str | None:
    if kind == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "a whole number ≥ 0"
    if kind == "text":
        return None if isinstance(value, str) and value.strip() else "a non-empty string"
    if kind == "texts":
        ok = isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)
        return None if ok else "a non-empty list of non-empty strings"
    if kind == "relation":
        return None if value in RELATIONS else f"one of {' / '.join(repr(r) for r in RELATIONS)}"
    if kind == "char":
        return None if isinstance(value, str) and len(value) == 1 else "one character"
    raise AssertionError(kind)


def validate(instruction_id: str, kwargs: object) -> Args:
    """The kwargs as Args, or ValueError saying what does not fit. Null values count as absent (IFEval's
    published parquet gives every instruction every key, null where it does not apply)."""
    spec = INSTRUCTIONS.get(instruction_id)
    if spec is None:
        raise ValueError(f"unknown instruction id {instruction_id!r}")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"{instruction_id}: kwargs must be an object, not {type(kwargs).__name__}")
    given = {k: v for k, v in kwargs.items() if v is not None}
    for key in given:
        if key not in spec.params:
            takes = ", ".join(spec.params) or "no kwargs"
            raise ValueError(f"{instruction_id}: kwarg {key!r} does not fit it (it takes {takes})")
    for key, kind in spec.params.items():
        if key not in given:
            raise ValueError(f"{instruction_id}: kwarg {key!r} is missing")
        wrong = _kind_error(kind, given[key])
        if wrong:
            raise ValueError(f"{instruction_id}: kwarg {key!r} must be {wrong}, not {given[key]!r}")
    return Args(given)
