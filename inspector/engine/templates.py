"""Chat templates: the GGUF's own or a pair's Jinja file, rendered with the pair's arguments (enable_thinking...)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inspector.engine.base import EngineError

# What a template is rendered with when it is checked: one user turn, and a system prompt before it.
PROBE_USER = [{"role": "user", "content": "Hello."}]
PROBE_SYSTEM = [{"role": "system", "content": "You are a helpful assistant."}, *PROBE_USER]


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


@dataclass(frozen=True)
class ChatTemplate:
    """A Jinja chat template, where it came from (the GGUF or a file) and the arguments it is rendered with."""

    source: str
    origin: str  # what an error names: the template file, or the GGUF it came with
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None  # the pair's template file, when it replaces the GGUF's

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def render(self, messages: list[dict[str, str]]) -> str:
        """The text the model continues: the conversation and the opening of the assistant's turn. BOS is left to
        the tokenizer (the GGUF says whether the model wants one), so `bos_token` renders empty."""
        try:
            out = self._compiled.render(
                messages=messages, add_generation_prompt=True, bos_token="", eos_token="", **dict(self.kwargs)
            )
        except jinja2.TemplateError as e:
            raise EngineError(f"{self.origin}: chat template does not render ({str(e).splitlines()[0]})") from e
        return str(out)

    @cached_property
    def _compiled(self) -> jinja2.Template:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals.update(raise_exception=_raise, strftime_now=lambda f: datetime.now().strftime(f))
        try:
            return env.from_string(self.source)
        except jinja2.TemplateError as e:
            raise EngineError(f"{self.origin}: chat template does not parse ({str(e).splitlines()[0]})") from e

    def check(self, with_system: bool) -> None:
        """Render a probe conversation now, so a template that cannot fails before a run writes anything."""
        self.render(PROBE_SYSTEM if with_system else PROBE_USER)

    def opens(self, marker: str) -> bool:
        """Whether the assistant's turn starts inside a block the template opens (Qwen3's `<think>` with thinking
        on): the model's text then begins in that block."""
        rendered = self.render(PROBE_USER).rstrip()
        return rendered.endswith(marker)
