"""A backend that needs no model: deterministic text from the prompt, role and seed, for unit tests of the logic
above the engine (runs, resumes, the workbench) in milliseconds. The real engine is tested in tests/integration."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from inspector.engine.base import (
    BATCH,
    GENERATE,
    SCORE,
    EngineError,
    Generation,
    GenParams,
    ModelInfo,
    Prompt,
    as_chat,
)

WORDS = ["the", "soup", "river", "is", "warm", "and", "PRISM-4", "says", "so", "today", "Nexus", "Research"]


class FakeBackend:
    """One side of a pair. Its text is a pure function of (role, conversation, seed, max_tokens), one word per token, so
    a test can say what any run must have stored; a prompt containing "too long" fails as a context overflow."""

    def __init__(self, role: str, n_seq: int = 4) -> None:
        self.role, self.n_seq = role, n_seq
        self.capabilities = frozenset({GENERATE, SCORE} | ({BATCH} if n_seq > 1 else set()))
        self.calls: list[list[str]] = []  # the prompts of each call, in order: the batch plan as it ran
        self.conversations: list[Prompt] = []  # every prompt as it was given, conversation included
        self.closed = False

    def info(self) -> ModelInfo:
        return ModelInfo(self.role, f"fake/{self.role}.gguf", f"sha-{self.role}", None, None, "F16", "fake", "0", None)

    def words(self, prompt: Prompt, params: GenParams) -> list[str]:
        chat = as_chat(prompt)
        # A bare prompt keys on its text alone; a system prompt or earlier turns change the text, as in a model.
        key = chat.prompt if not chat.before else f"{chat.before}|{chat.prompt}"
        digest = hashlib.sha256(f"{self.role}|{key}|{params.seed}".encode()).digest()
        return [WORDS[b % len(WORDS)] for b in digest[: params.max_tokens]]

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
        self.conversations.append(prompt)
        text = as_chat(prompt).prompt
        if "too long" in text:
            raise EngineError(f"prompt of {len(text)} tokens does not fit the context")
        out: list[str] = []
        for w in self.words(prompt, params):
            if should_stop is not None and should_stop():
                return Generation(" ".join(out), len(text.split()), len(out), "cancelled", 0.0)
            out.append(w)
            if on_token is not None:
                on_token((" " if len(out) > 1 else "") + w)
        return Generation(" ".join(out), len(text.split()), len(out), "length", 0.001)

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: Callable[[int, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Generation | EngineError]:
        self.calls.append([as_chat(p).prompt for p in prompts])
        out: list[Generation | EngineError] = []
        for p, gp in zip(prompts, params, strict=True):
            try:
                out.append(self.generate(p, gp, None, should_stop))
            except EngineError as e:
                out.append(e)
        return out

    def score(self, text: str) -> list[float]:
        return [-1.0 - (len(w) % 3) for w in text.split()[1:]]

    def close(self) -> None:
        self.closed = True
