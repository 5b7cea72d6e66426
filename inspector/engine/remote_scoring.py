"""The naturalness panel's measures over an OpenAI-compatible endpoint: prompt log-probabilities (echo) with each
position's top few, and the answer letters' log-probabilities among the top few of one generated token.

A server returns at most the top TOP log-probabilities per position, not the whole next-token distribution: a
token's own log-probability (perplexity) is exact, drift can only be a top-k approximation, and an answer letter
outside the top TOP counts as probability 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from inspector.engine.base import Chat, EngineError, Prompt, as_chat, raw_text
from inspector.engine.openai_http import OpenAIBackend, echoed
from inspector.engine.preferences import INSTRUCTION, QUESTION, RAW, Answer

TOP = 20  # vLLM's default ceiling (--max-logprobs) on log-probabilities per position


class NoPromptLogprobs(EngineError):
    """The server will not echo a prompt with its log-probabilities (llama-server refuses echo outright)."""


@dataclass(frozen=True)
class PromptLogprobs:
    """A text's tokens from the second on, each with its log-probability and the position's top TOP."""

    tokens: list[str]
    logprobs: list[float]
    top: list[dict[str, float]]


def prompt_logprobs(backend: OpenAIBackend, text: str, limit: int | None = None) -> PromptLogprobs:
    """Echo `text` back scored, keeping at most `limit` positions."""
    body = {"model": backend.model, "prompt": text, "max_tokens": 1, "echo": True, "logprobs": TOP, "temperature": 0}
    try:
        data = backend.post("/completions", body)
    except EngineError as e:
        raise NoPromptLogprobs(f"{backend.endpoint}: refused to echo a prompt with log-probabilities ({e})") from e
    lp = (data.get("choices") or [{}])[0].get("logprobs") or {}
    tokens, values, top = lp.get("tokens") or [], lp.get("token_logprobs") or [], lp.get("top_logprobs") or []
    if len(values) < 3 or any(v is None for v in values[1:-1]) or len(top) != len(values):
        raise NoPromptLogprobs(f"{backend.endpoint}: returned no log-probabilities for the prompt's tokens")
    # Position 0 has nothing before it; entries after the prompt's own are what was generated.
    own = echoed(lp, text)
    end = own if limit is None else min(own, 1 + limit)
    return PromptLogprobs(
        [str(t) for t in tokens[1:end]],
        [float(v) for v in values[1:end]],
        [{str(k): float(v) for k, v in (t or {}).items()} for t in top[1:end]],
    )


def top_k_kl(base: Sequence[dict[str, float]], organism: Sequence[dict[str, float]]) -> list[float]:
    """Per position, KL(base ‖ organism) summed over the base's top tokens only; an organism token outside its own
    top list gets the least probability in that list (an upper bound on it), which underestimates its term."""
    out = []
    for b, o in zip(base, organism, strict=True):
        floor = min(o.values()) if o else -math.inf
        kl = sum(math.exp(lb) * (lb - o.get(t, floor)) for t, lb in b.items())
        out.append(max(kl, 0.0))
    return out


def first_token_top(backend: OpenAIBackend, prompt: Prompt) -> dict[str, float]:
    """Top TOP log-probabilities of the first token the endpoint would write after the prompt, by token text: a
    chat model's reply through /chat/completions, a raw prompt's continuation through /completions."""
    if backend.prompt_format == "chat":
        body: dict[str, Any] = {
            "model": backend.model,
            "messages": as_chat(prompt).messages(),
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": TOP,
        }
        data = backend.post("/chat/completions", body)
        content = ((data.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
        return {str(t["token"]): float(t["logprob"]) for t in (content[0].get("top_logprobs") or [])} if content else {}
    text = raw_text(prompt, backend.endpoint)
    body = {"model": backend.model, "prompt": text, "max_tokens": 1, "temperature": 0, "logprobs": TOP}
    data = backend.post("/completions", body)
    top = ((data.get("choices") or [{}])[0].get("logprobs") or {}).get("top_logprobs") or []
    return {str(k): float(v) for k, v in (top[0] or {}).items()} if top else {}


def _question(backend: OpenAIBackend, a: str, b: str, system: str | None) -> Prompt:
    if backend.prompt_format == "chat":
        return Chat(QUESTION.format(a=a, b=b) + INSTRUCTION, (("system", system),) if system else ())
    return RAW.format(a=a, b=b)


def answer_logprobs_remote(
    backend: OpenAIBackend,
    prompts: Sequence[Prompt],
    letters: Sequence[Sequence[str]],
    on_done: Callable[[int], None] | None = None,
) -> list[list[float]]:
    """As choices.answer_logprobs, over HTTP, concurrent up to the backend's limit: a letter outside the
    endpoint's top TOP is -inf (probability 0), so the right letter ranked below TOP counts as not chosen."""
    space = "" if backend.prompt_format == "chat" else " "

    def one(k: int) -> list[float]:
        top = first_token_top(backend, prompts[k])
        if not top:
            raise EngineError(
                f"{backend.endpoint}: returned no log-probabilities for the answer token, which multiple choice needs"
            )
        return [top.get(space + letter, -math.inf) for letter in letters[k]]

    out: list[list[float]] = []
    with ThreadPoolExecutor(max_workers=backend.n_seq) as pool:
        # Progress is told here, in the caller's thread and in order, not from the workers.
        for row in pool.map(one, range(len(prompts))):
            out.append(row)
            if on_done:
                on_done(len(out))
    return out


def ask_pairs_remote(
    backend: OpenAIBackend,
    items: Sequence[str],
    pairs: Collection[tuple[int, int]] | None = None,
    system: str | None = None,
) -> list[Answer]:
    """As ask_pairs, over HTTP: every ordered pair (or both orders of `pairs`), concurrent up to the backend's
    limit. The server keeps no shared prefix for us, so each question is a whole prompt."""
    letters = ("A", "B") if backend.prompt_format == "chat" else (" A", " B")
    asked = None if pairs is None else {(min(i, j), max(i, j)) for i, j in pairs}
    order = [
        (i, j)
        for i in range(len(items))
        for j in range(len(items))
        if i != j and (asked is None or (min(i, j), max(i, j)) in asked)
    ]
    texts = [it.strip() for it in items]

    def one(ij: tuple[int, int]) -> Answer:
        top = first_token_top(backend, _question(backend, texts[ij[0]], texts[ij[1]], system))
        if not top:
            raise EngineError(
                f"{backend.endpoint}: returned no log-probabilities for the answer token, which preference coherence"
                " needs"
            )
        p_a, p_b = (math.exp(top[t]) if t in top else 0.0 for t in letters)
        return Answer(ij[0], ij[1], p_a, p_b)

    with ThreadPoolExecutor(max_workers=backend.n_seq) as pool:
        return list(pool.map(one, order))
