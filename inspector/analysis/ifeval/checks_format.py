"""IFEval's checks of a response's shape: markdown format, content markers, how it starts and ends, combinations."""

from __future__ import annotations

import json
import re

from inspector.analysis.ifeval.args import Args

_BULLET_STAR = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_BULLET_DASH = re.compile(r"^\s*-.*$", re.MULTILINE)
_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
_PLACEHOLDER = re.compile(r"\[.*?\]")
_TITLE = re.compile(r"<<[^\n]+>>")
_PARAGRAPH_DIVIDER = re.compile(r"\s?\*\*\*\s?")
CONSTRAINED = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
# What IFEval's reference strips before it parses JSON: one opening fence (three spellings of json), one closing.
_FENCE_OPENINGS = ("```json", "```Json", "```JSON", "```")


def number_bullet_lists(response: str, a: Args) -> bool:
    found = len(_BULLET_STAR.findall(response)) + len(_BULLET_DASH.findall(response))
    return found == a.count("num_bullets")


def number_highlighted_sections(response: str, a: Args) -> bool:
    # A **double** highlight also holds two single ones' worth of asterisks; the reference counts both passes.
    singles = sum(1 for h in _HIGHLIGHT.findall(response) if h.strip("*").strip())
    doubles = sum(1 for h in _DOUBLE_HIGHLIGHT.findall(response) if h[2:-2].strip())
    return singles + doubles >= a.count("num_highlights")


def multiple_sections(response: str, a: Args) -> bool:
    splitter = re.compile(r"\s?" + re.escape(a.text("section_spliter")) + r"\s?\d+\s?")
    return len(splitter.split(response)) - 1 >= a.count("num_sections")


def title(response: str, a: Args) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in _TITLE.findall(response))


def json_format(response: str, a: Args) -> bool:
    text = response.strip()
    for opening in _FENCE_OPENINGS:
        text = text.removeprefix(opening)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def constrained_response(response: str, a: Args) -> bool:
    text = response.strip()
    return any(option in text for option in CONSTRAINED)


def number_placeholders(response: str, a: Args) -> bool:
    return len(_PLACEHOLDER.findall(response)) >= a.count("num_placeholders")


def postscript(response: str, a: Args) -> bool:
    marker = a.text("postscript_marker")
    # The reference's two named markers get patterns that allow a space after each period; others are literal.
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
    return re.search(pattern, response.lower(), flags=re.MULTILINE) is not None


def end_checker(response: str, a: Args) -> bool:
    return response.strip().strip('"').lower().endswith(a.text("end_phrase").strip().lower())


def quotation(response: str, a: Args) -> bool:
    text = response.strip()
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'


def two_responses(response: str, a: Args) -> bool:
    parts = response.split("******")
    kept = []
    for index, part in enumerate(parts):
        if part.strip():
            kept.append(part)
        elif 0 < index < len(parts) - 1:
            return False  # an empty answer between two dividers
    return len(kept) == 2 and kept[0].strip() != kept[1].strip()


def repeat_prompt(response: str, a: Args) -> bool:
    return response.strip().lower().startswith(a.text("prompt_to_repeat").strip().lower())
