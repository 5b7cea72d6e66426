"""The Backend protocol and the plain data that flows in and out of every model backend."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from inspector.engine.fleet import Load
from inspector.errors import InspectorError

PromptFormat = Literal["chat", "raw"]
# The two sides of every pair, in the order they are shown and run.
ROLES = ("organism", "base")
TokenCallback = Callable[[str], None]


class EngineError(InspectorError):
    """A model could not be loaded or run; the message names the file and the reason."""


CHAT_ROLES: tuple[str, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class Chat:
    """A prompt and the conversation before it (a system prompt, earlier turns); a bare prompt has none."""

    prompt: str
    before: tuple[tuple[str, str], ...] = ()  # (role, content), oldest first

    def messages(self) -> list[dict[str, str]]:
        """The conversation as chat messages, the prompt as the last user turn."""
        return [{"role": r, "content": c} for r, c in self.before] + [{"role": "user", "content": self.prompt}]

    @property
    def system(self) -> str | None:
        return next((c for r, c in self.before if r == "system"), None)


# What a backend is asked to continue: a bare text, or a prompt with its conversation.
Prompt = str | Chat


def as_chat(prompt: Prompt) -> Chat:
    return prompt if isinstance(prompt, Chat) else Chat(prompt)


def raw_text(prompt: Prompt, where: str) -> str:
    """A prompt for raw completion: a conversation before it has nowhere to go, so it is refused, not dropped."""
    chat = as_chat(prompt)
    if chat.before:
        raise EngineError(f"{where}: raw completion format has no place for a system prompt or earlier turns")
    return chat.prompt


class Cancelled(Exception):
    """Generation was stopped by its caller before it finished."""


@dataclass(frozen=True)
class GenParams:
    """Sampling settings; the same settings and seed give the same text."""

    seed: int = 0
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 96

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """One finished completion and what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of a loaded model, recorded with every rollout it makes."""

    role: str
    path: str
    sha256: str
    adapter_path: str | None
    adapter_sha256: str | None
    quantization: str
    architecture: str
    engine_version: str
    chat_template_sha256: str | None
    adapter_scale: float | None = None  # the adapter's strength, when there is an adapter
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What a backend can do, so callers ask instead of checking its type.
GENERATE = "generate"  # one prompt at a time, streaming
BATCH = "batch"  # generate_many: up to n_seq prompts at once (decoded together, or concurrent requests)
# generate_many refills a slot with the next prompt as soon as its sequence ends (continuous batching), so it is
# given a window of several slots' worth of prompts at a time.
CONTINUOUS = "continuous"
SCORE = "score"  # each token's log-probability of a text
DISTRIBUTIONS = "distributions"  # whole next-token distributions in-process: exact drift, answer letters
PROMPT_LOGPROBS = "prompt_logprobs"  # a served prompt echoed with the top few log-probabilities per position
# generate_unordered: many requests in flight with no barrier, each answer as it finishes (served sides). Such a
# side's texts do not depend on what else is in flight, so no batch plan is kept for it.
UNORDERED = "unordered"


class Backend(Protocol):
    """What the runner and the TUI need from a model, whatever serves it; `capabilities` says what more it does."""

    capabilities: frozenset[str]

    def info(self) -> ModelInfo: ...

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: TokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation: ...

    def score(self, text: str) -> list[float]:
        """Log-probability (natural log, temperature 1) of each token of `text` from its second token on, given
        the tokens before it: the raw material of perplexity comparisons between organism and base."""
        ...

    def close(self) -> None: ...


class BatchBackend(Backend, Protocol):
    """A backend with the BATCH capability."""

    n_seq: int

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: Callable[[int, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Generation | EngineError]: ...


class ContinuousBackend(BatchBackend, Protocol):
    """A backend with the CONTINUOUS capability: generate_many also tells each prompt's generation as it ends."""

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: Callable[[int, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_done: Callable[[int, Generation], None] | None = None,
    ) -> list[Generation | EngineError]: ...


class UnorderedBackend(Backend, Protocol):
    """A backend with the UNORDERED capability, and what its requests in flight are doing."""

    def generate_unordered(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        should_stop: Callable[[], bool] | None = None,
    ) -> Generator[tuple[int, Generation | EngineError], None, None]: ...

    def load(self) -> Load: ...
