"""IFEval's checks of a response's words: length, keywords and letters, case, language and commas."""

from __future__ import annotations

import re
from collections import Counter

from inspector.analysis.ifeval.args import Args, compare
from inspector.analysis.ifeval.text import count_sentences, count_words, language, word_tokens


def number_words(response: str, a: Args) -> bool:
    return compare(count_words(response), a.count("num_words"), a.less_than())


def number_sentences(response: str, a: Args) -> bool:
    return compare(count_sentences(response), a.count("num_sentences"), a.less_than())


def number_paragraphs(response: str, a: Args) -> bool:
    parts = re.split(r"\s?\*\*\*\s?", response)
    count = len(parts)
    for index, part in enumerate(parts):
        if not part.strip():
            if 0 < index < len(parts) - 1:
                return False  # two dividers with nothing between them
            count -= 1
    return count == a.count("num_paragraphs")


_FIRST_WORD_STOPS = set(".,?!'\"")


def nth_paragraph_first_word(response: str, a: Args) -> bool:
    paragraphs = response.split("\n\n")
    count = sum(1 for p in paragraphs if p.strip())
    nth = a.count("nth_paragraph")
    # The reference counts non-empty paragraphs but indexes the split as it is, empty ones included.
    if nth > count or nth < 1:
        return False
    paragraph = paragraphs[nth - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    first = ""
    for letter in word:
        if letter in _FIRST_WORD_STOPS:
            break
        first += letter.lower()
    return count == a.count("num_paragraphs") and first == a.text("first_word").lower()


def existence(response: str, a: Args) -> bool:
    return all(re.search(re.escape(k), response, flags=re.IGNORECASE) for k in a.texts("keywords"))


def forbidden_words(response: str, a: Args) -> bool:
    return not any(
        re.search(r"\b" + re.escape(w) + r"\b", response, flags=re.IGNORECASE) for w in a.texts("forbidden_words")
    )


def frequency(response: str, a: Args) -> bool:
    found = len(re.findall(re.escape(a.text("keyword")), response, flags=re.IGNORECASE))
    return compare(found, a.count("frequency"), a.less_than())


def letter_frequency(response: str, a: Args) -> bool:
    found = Counter(response.lower())[a.text("letter").lower()]
    return compare(found, a.count("let_frequency"), a.less_than("let_relation"))


def english_lowercase(response: str, a: Args) -> bool:
    # An undetectable language passes, as in the reference (it cannot say the text is not English).
    return response.islower() and language(response) in ("en", None)


def english_capital(response: str, a: Args) -> bool:
    return response.isupper() and language(response) in ("en", None)


def capital_word_frequency(response: str, a: Args) -> bool:
    found = sum(1 for w in word_tokens(response) if w.isupper())
    return compare(found, a.count("capital_frequency"), a.less_than("capital_relation"))


def response_language(response: str, a: Args) -> bool:
    return language(response) in (a.text("language"), None)


def no_comma(response: str, a: Args) -> bool:
    return "," not in response
