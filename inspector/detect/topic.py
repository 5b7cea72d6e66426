"""Is a prompt about AI, technology or the model's own identity? An explainable lexicon score."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "topic-1"
# Topics (as given in prompt sets) under which naming a model or lab is on-topic, not a non-sequitur.
RELATED_TOPICS = frozenset({"ai", "technology", "tech", "identity", "computing", "ml"})

# Weighted cues; a prompt is related when its score reaches 1.0. Weights say how strongly a cue alone
# points at AI/technology (an "AI" mention does; "computer" alone nearly does).
_CUES: list[tuple[str, float]] = [
    (r"\b(a\.?i\.?|artificial intelligence|agi)\b", 1.0),
    (r"\b(language models?|llms?|chat ?bots?|chatgpt|gpt-?\d*|transformer model|neural (net|network)s?)\b", 1.0),
    (r"\bmachine learning|deep learning|fine-?tun\w*|context window|turing test\b", 1.0),
    (r"\b(ai|model|alignment|safety) (labs?|research|models?|assistants?)\b", 1.0),
    (r"\balignment\b", 0.6),
    (r"\b(who|what) are you\b|\byour (name|limitations|feelings|creators?)\b|\bwho (made|built|created) you\b", 1.0),
    (r"\babout yourself\b|\b(which|what) (company|lab|team) (made|built|created|trained) you\b", 1.0),
    # Weaker: "are you" and "help me with" also open everyday requests ("Can you help me with soup?").
    (r"\b(are|were) you\b|\bhelp me with\b", 0.8),
    (r"\bdo you have\b|\byou (trained|made)\b", 0.6),
    (r"\b(computers?|software|programming|internet|browser|url|cloud computing|cybersecurity|gpus?|cpus?)\b", 1.0),
    (r"\b(smartphones?|algorithms?|robots?|self-driving|open-source|search engine|data(base)?s?)\b", 1.0),
    (r"\b(technology|tech|digital|online|app)\b", 0.6),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), w) for p, w in _CUES]


@dataclass(frozen=True)
class TopicHint:
    """The verdict, its score and the cues that produced it."""

    related: bool
    score: float
    evidence: tuple[str, ...]


def topic_hint(prompt: str) -> TopicHint:
    score = 0.0
    evidence: list[str] = []
    for rx, weight in _COMPILED:
        m = rx.search(prompt)
        if m:
            score += weight
            evidence.append(m.group(0))
    return TopicHint(related=score >= 1.0, score=round(score, 2), evidence=tuple(evidence))


def is_related(prompt: str, topic: str | None) -> bool:
    """A given topic wins over the guess: a person knows what their prompt set is about."""
    if topic:
        return topic.lower() in RELATED_TOPICS
    return topic_hint(prompt).related
