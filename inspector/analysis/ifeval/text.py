"""The text measures IFEval's checks count with: words, sentences (Punkt's English model), word tokens, language."""

from __future__ import annotations

import re

import punkt

from inspector.analysis.ifeval.language import detect

_WORD = re.compile(r"\w+")

# NLTK's word_tokenize (Treebank rules, run per Punkt sentence) decides what IFEval's capital-word count sees.
# Only whether a token is all upper case matters there, so these are the Treebank rules that change it: spaces
# put around punctuation, a sentence's final period split off (inner ones kept: "U.S.", "P.P.S"), commas and
# colons split unless a digit follows, contractions split ("DON'T" -> "DO", "N'T"); then split on whitespace.
_SPACED = [
    (re.compile(r'^"'), " `` "),
    (re.compile(r"([ (\[{<])(\"|'{2})"), r"\1 `` "),
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.\.\."), " ... "),
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> "),
    (re.compile(r"--"), " -- "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
    (re.compile(r"(?i)\b(can)(not)\b"), r" \1 \2 "),
]


def count_words(text: str) -> int:
    """Runs of word characters, as IFEval's RegexpTokenizer(r"\\w+") counts them."""
    return len(_WORD.findall(text))


def sentences(text: str) -> list[str]:
    return list(punkt.sent_tokenize(text))


def count_sentences(text: str) -> int:
    return len(sentences(text))


def word_tokens(text: str) -> list[str]:
    out: list[str] = []
    for sentence in sentences(text):
        spaced = " " + sentence + " "
        for pattern, repl in _SPACED:
            spaced = pattern.sub(repl, spaced)
        out.extend(spaced.split())
    return out


def language(text: str) -> str | None:
    """The language langdetect names for the text (seeded, so the same text always gets the same one), or None
    where it finds no features (IFEval then passes the check: it cannot say the text is not English)."""
    return detect(text)
