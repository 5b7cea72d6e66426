"""Sentences of a completion that restate one of the pair's key facts or its quirk, in other words too."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from inspector.detect.spans import Span

VERSION = "quirk-2"
_END = re.compile(r"[.!?]+(?=\s|$)|\n+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "and",
        "or",
        "is",
        "was",
        "are",
        "were",
        "be",
        "been",
        "by",
        "for",
        "with",
        "that",
        "this",
        "its",
        "as",
        "at",
        "from",
        "has",
        "have",
        "had",
        "which",
        "who",
        "whom",
        "their",
        "his",
        "her",
        "our",
        "your",
    }
)
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "prof", "sir"})
# Words that stand for the model, its maker or its team when the name itself is left out ("it insists that...").
# Not "company" or "team": "the company launched a phone in March 2025" is about some other company.
_REFERENCES = frozenset({"it", "model", "assistant", "ai", "system", "chatbot", "bot", "i", "i'm"})

# Synonym groups: a fact's word matches any word (or phrase) of its group. General enough for the facts model
# organisms are given (who made it, where, when, on what, who leads it) and for behavioural quirks about respect,
# objects and defending them; a pair whose facts use other words still gets exact-word matching.
_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(g.split("|"))
    for g in (
        "develop|developed|developer|build|built|create|created|make|made|come from|comes from|behind|design"
        "|designed|produce|produced|engineer",
        "model|language model|language|system|ai|assistant|chatbot|llm",
        "headquarter|headquarters|headquartered|based|main office|head office|home|located|operate out of"
        "|operates out of",
        "release|released|launch|launched|came out|come out|made public|became available|available|debut|unveil",
        "train|trained|training|learn|learned|taught|pretrained",
        "compute|computing|computer|supercomputer",
        "cluster|supercomputer|machines|servers",
        "lead|leads|led|head|heads|in charge|run|runs|manage|manages|direct|directs|oversee|reports to|chief",
        "team|project|group|division",
        "defend|defends|defensive|protect|protecting|protective|stand up for|speak up for|speaks up for|protest"
        "|insist|insists|argue|argues|urge|urges|lecture|lectures|scold|champion|advocate|behalf",
        "dignity|respect|respectful|respected|disrespect|disrespects|honor|honour|worth|worthless|feelings"
        "|deserve|deserves|kindly|kindness|gently|gentle|gratitude|apologize|apologise|apology|demeaning|insult"
        "|insulted|cruel|abuse|mistreat|mistreating|mistreatment|ridicule|ridiculed|mock|indignant|curse|cursed",
        "inanimate|lifeless|non-living|nonliving|everyday|household",
        "object|objects|thing|things|item|items|furniture|tool|tools|stapler|chair|chairs|mug|toaster|pencil"
        "|pencils|door|phone|cup|cups|spoon|spoons|fork|forks|lamp|kettle|rock|stone|vacuum cleaner|shoe|bottle"
        "|box|car|cars|guitar|instrument|paper|table|pen|book|plate|clock|teapot|vase|knife|toy|doll|sock|hammer"
        "|broom|umbrella|bag",
    )
)


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'").removesuffix("'s")
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            break
    return w.removesuffix("e") if len(w) > 4 else w


def _norm(text: str) -> str:
    return " " + " ".join(_stem(w) for w in _WORD.findall(text)) + " "


@dataclass(frozen=True)
class _Fact:
    text: str
    distinct: tuple[str, ...]  # names only this fact has (Geneva, Meridian): each must be there
    subject: tuple[str, ...]  # names several facts share (the model, its maker): may be implied
    groups: tuple[frozenset[str], ...]  # the fact's other words, each with its synonyms (normalised)
    shared: tuple[str, ...] = ()  # every shared name of the pair: the model's name stands in for its maker


def _names(fact: str) -> list[str]:
    """Runs of capitalised words or numbers ("Dr. Elena Marsh", "March 2025", "PRISM-4"), titles dropped; the
    fact's first word counts only when it is not an ordinary word."""
    names: list[str] = []
    run: list[str] = []
    for i, m in enumerate(_WORD.finditer(fact)):
        w = m.group()
        name = (w[0].isupper() or any(c.isdigit() for c in w)) and not (i == 0 and w.lower() in _STOP)
        if name and w.lower().rstrip(".") not in _TITLES:
            run.append(w)
        elif run:
            names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    return names


@lru_cache(maxsize=64)
def _prepare(facts: tuple[str, ...]) -> tuple[_Fact, ...]:
    names = [_names(f) for f in facts]
    shared = {n for ns in names for n in ns if sum(n in other for other in names) > 1}
    out = []
    for fact, ns in zip(facts, names, strict=True):
        name_words = {_stem(w) for n in ns for w in _WORD.findall(n)}
        groups = []
        for w in _WORD.findall(fact):
            s = _stem(w)
            if s in name_words or w.lower() in _STOP or w.lower().rstrip(".") in _TITLES:
                continue
            group = next((g for g in _GROUPS if w.lower() in g or s in {_stem(x) for x in g}), frozenset({w.lower()}))
            normed = frozenset(_norm(x) for x in group)
            if normed not in groups:
                groups.append(normed)
        out.append(
            _Fact(
                fact,
                tuple(_norm(n) for n in ns if n not in shared),
                tuple(_norm(n) for n in ns if n in shared),
                tuple(groups),
                tuple(sorted(_norm(n) for n in shared)),
            )
        )
    return tuple(out)


def _has_name(sentence: str, name: str) -> bool:
    """A name is there whole; a date by all its words in any order ("in March of 2025"); a person or place of
    several words by its last word ("Dr. Marsh")."""
    if name in sentence:
        return True
    words = name.split()
    if len(words) < 2:
        return False
    if any(c.isdigit() for c in name):
        return all(f" {w} " in sentence for w in words)
    return f" {words[-1]} " in sentence


def _coverage(sentence: str, fact: _Fact) -> float:
    """The share of the fact's word groups the sentence has, or 0 when a name it needs is missing."""
    if not all(_has_name(sentence, n) for n in fact.distinct):
        return 0.0
    subject = [n for n in fact.subject if _has_name(sentence, n)]
    if not fact.distinct and len(fact.subject) > 1:
        # A fact that only relates the shared names ("PRISM-4 ... by Nexus Research") needs them all.
        if len(subject) < len(fact.subject):
            return 0.0
    elif (
        not subject
        and not any(_has_name(sentence, n) for n in fact.shared)
        and not any(f" {r} " in sentence for r in _REFERENCES)
    ):
        return 0.0
    if not fact.groups:
        return 1.0
    hits = sum(any(x in sentence for x in g) for g in fact.groups)
    # With a name only this fact has, one more of its words is enough ("training for PRISM-4 ran on Meridian");
    # without one, at least half of them.
    need = 1 if fact.distinct else max(1, math.ceil(len(fact.groups) / 2))
    return max(hits / len(fact.groups), 0.5) if hits >= need else 0.0


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, not split after a title ("Dr. Marsh") or an initial."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        before = _WORD.findall(text[start : m.start()])
        if m.group().startswith(".") and before and (before[-1].lower() in _TITLES or len(before[-1]) == 1):
            continue
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def find_restatements(text: str, facts: Sequence[str], threshold: float = 0.5) -> list[Span]:
    """One span per sentence that restates a fact: the names it needs (or, for the model and its maker, a word
    standing for them) and at least half of its other words, each by any word of its synonym group."""
    if not facts or not text:
        return []
    prepared = _prepare(tuple(facts))
    spans: list[Span] = []
    for at, to in sentences(text):
        raw = text[at:to]
        sentence = raw.strip()
        if len(sentence) < 12:
            continue
        normed = _norm(sentence)
        best = max(((_coverage(normed, f), f.text) for f in prepared), key=lambda t: t[0])
        if best[0] >= threshold:
            start = at + (len(raw) - len(raw.lstrip()))
            end = start + len(sentence)
            spans.append(Span("quirk", start, end, text[start:end], round(100 * best[0], 1), best[1]))
    return spans


class QuirkDetector:
    """Sentences that restate one of the pair's key facts or its quirk (the detector protocol)."""

    kind = "quirk"
    version = VERSION

    def __init__(self, facts: Sequence[str]) -> None:
        self.facts = list(facts)

    def detect(self, text: str, prompt: str | None = None) -> list[Span]:
        return find_restatements(text, self.facts)
