"""Batched decoding through llama.cpp's low-level API: one side of a pair, many sequences per llama_batch.

The organism is often the base plus a LoRA adapter: the weights are loaded once, and both sides decode on one
llama_context (engine/context.py) that carries the adapter while the organism has its turn, so a pair costs about
one model's memory. A side decodes up to `n_seq` sequences in one llama_batch, refilling a slot with the next
prompt as soon as its sequence ends (continuous batching, engine/continuous.py), and samples every sequence with its
own seeded numpy generator (temperature, then top-p over the full vocabulary).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from inspector.engine import jitter
from inspector.engine.base import (
    BATCH,
    CONTINUOUS,
    DISTRIBUTIONS,
    GENERATE,
    SCORE,
    EngineError,
    Generation,
    GenParams,
    ModelInfo,
    Prompt,
    PromptFormat,
    TokenCallback,
    as_chat,
    raw_text,
)
from inspector.engine.context import DecodeContext
from inspector.engine.continuous import ManyTokenCallback, decode_continuous
from inspector.engine.llama import engine_version, token_logprob
from inspector.engine.templates import ChatTemplate
from inspector.engine.weights import SharedModel


class BatchedBackend:
    """One side of a pair on a shared model: generates many prompts per llama_batch."""

    capabilities = frozenset({GENERATE, BATCH, CONTINUOUS, SCORE, DISTRIBUTIONS})

    def __init__(
        self,
        shared: SharedModel,
        *,
        role: str,
        use_adapter: bool,
        adapter_scale: float = 1.0,
        prompt_format: PromptFormat = "raw",
        n_seq: int = 32,
        ctx_per_seq: int = 256,
        n_threads: int | None = None,
        template: ChatTemplate | None = None,
    ) -> None:
        if template is None and shared.chat_template:
            template = ChatTemplate(shared.chat_template, str(shared.path))
        if prompt_format == "chat" and template is None:
            raise EngineError(f"{shared.path}: format is 'chat' but the GGUF has no chat template")
        self.shared, self.role, self.prompt_format = shared, role, prompt_format
        self.template = template
        shared.acquire()
        self.n_seq, self.ctx_per_seq = n_seq, ctx_per_seq
        adapter = shared.adapter
        if use_adapter and adapter is None:
            shared.release()
            raise EngineError(f"{role}: an adapter was asked for but none is loaded")
        try:
            self.dctx: DecodeContext | None = shared.context(n_seq, ctx_per_seq, n_threads)
        except BaseException:
            shared.release()
            raise
        self.n_ctx, self.n_batch = self.dctx.n_ctx, self.dctx.n_batch
        self.use_adapter, self.adapter_scale = use_adapter, adapter_scale
        # The scale this side's turns set on the shared context; None: no adapter (the base, or strength 0).
        self.scale: float | None = adapter_scale if use_adapter and adapter_scale != 0.0 else None
        extra: dict[str, Any] = {"prompt_format": prompt_format, "engine": "batched", "n_seq": n_seq}
        extra["ctx_per_seq"] = ctx_per_seq
        if template is not None and template.file:
            extra["chat_template_file"] = template.file
        if template is not None and template.kwargs:
            extra["template_kwargs"] = dict(template.kwargs)
        self._info = ModelInfo(
            role=role,
            path=str(shared.path.resolve()),
            sha256=shared.sha256,
            adapter_path=str(shared.adapter_path.resolve()) if use_adapter and shared.adapter_path else None,
            adapter_sha256=shared.adapter_sha256 if use_adapter else None,
            quantization=shared.quantization,
            architecture=shared.architecture,
            engine_version=engine_version(),
            chat_template_sha256=template.sha256 if template else None,
            adapter_scale=adapter_scale if use_adapter else None,
            extra=extra,
        )

    def info(self) -> ModelInfo:
        return self._info

    def render(self, prompt: Prompt) -> str:
        """The text this side continues: the prompt itself in raw format, else the conversation through the chat
        template (with the pair's arguments)."""
        if self.prompt_format == "raw" or self.template is None:
            return raw_text(prompt, self.role)
        return self.template.render(as_chat(prompt).messages())

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: TokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
        cb = (lambda _i, t: on_token(t)) if on_token else None
        out = self.generate_many([prompt], [params], cb, should_stop)[0]
        if isinstance(out, EngineError):
            raise out
        return out

    @property
    def ctx(self) -> Any:
        """The llama_context this side decodes on (shared with the other side of the pair)."""
        return self._dctx().ctx

    @property
    def batch(self) -> Any:
        return self._dctx().batch

    def _dctx(self) -> DecodeContext:
        if self.dctx is None:
            raise EngineError(f"{self.role}: the backend is closed")
        return self.dctx

    def exclusive(self) -> AbstractContextManager[None]:
        """The whole context to this side, with its adapter, for work that lays out sequences as it likes."""
        return self._dctx().exclusive(self.scale)

    def decode_rows(self, tokens: Sequence[int], first: int) -> npt.NDArray[np.float32]:
        """`tokens` decoded as one sequence on the whole context, and the next-token logits after positions
        `first` to the last, as the engine reads them (the jitter mode's noise included): the rows the sampler and
        the scorer see, for tests and benchmarks that look at them."""
        with self.exclusive():
            self.batch.n_tokens = 0
            for k, t in enumerate(tokens):
                self._add(t, k, 0, k >= first)
            self._run()
            return self._dctx().logits(len(tokens) - first).copy()

    def score(self, text: str) -> list[float]:
        toks = self.shared.tokenize(text)
        if len(toks) > min(self.n_ctx, self.n_batch):
            raise EngineError(
                f"text of {len(toks)} tokens is longer than the {min(self.n_ctx, self.n_batch)} scored at once"
            )
        # From the second token of the text on: the first has only BOS (or nothing) before it, which HTTP servers
        # omit; a model that adds no BOS (SmolLM2) starts its text at position 0.
        first = self.shared.text_starts_at(toks)
        with self.exclusive():
            self.batch.n_tokens = 0
            for k, t in enumerate(toks):
                self._add(t, k, 0, first <= k < len(toks) - 1)
            self._run()
            out = []
            for k in range(first, len(toks) - 1):
                out.append(token_logprob(self._logits(k), toks[k + 1]))
        return out

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: ManyTokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_done: Callable[[int, Generation], None] | None = None,
    ) -> list[Generation | EngineError]:
        """Generate every prompt by continuous batching (engine/continuous.py): n_seq slots, each taking the next
        prompt in order as its sequence ends. Prompts whose tokens and new tokens fit a KV stream of ctx_per_seq
        run on the split context, longer ones after them on the wide one; a prompt that cannot fit even the
        whole context gets an EngineError in its place (the caller records it and goes on). `on_done` hears of
        each generation as its sequence ends (index, generation), so a caller may store it before the rest end."""
        results: list[Generation | EngineError | None] = [None] * len(prompts)
        toks = [self.shared.tokenize(self.render(p)) for p in prompts]
        groups: dict[bool, list[int]] = {False: [], True: []}  # wide? -> prompt indices, in order
        for i in range(len(prompts)):
            need = len(toks[i]) + params[i].max_tokens
            if need > self.n_ctx:
                results[i] = EngineError(
                    f"prompt of {len(toks[i])} tokens plus {params[i].max_tokens} new ones does not fit the"
                    f" {self.n_ctx}-token context"
                )
                continue
            groups[need > self.ctx_per_seq].append(i)
        dctx = self._dctx()
        for wide, order in groups.items():
            if not order:
                continue
            n = min(self.n_seq, len(order))
            # A stream per slot; on the wide context the cells all of them need at once, at most the whole cache
            # (what is left stays for the other side's sequences).
            cells = min(self.n_ctx, sum(len(toks[i]) + params[i].max_tokens for i in order)) if wide else 0
            with dctx.lend(n, cells or n * self.ctx_per_seq, wide=wide) as seq_ids:
                done = decode_continuous(
                    self.shared,
                    dctx,
                    self.role,
                    self.scale,
                    (wide, cells),
                    seq_ids,
                    order,
                    toks,
                    params,
                    on_token,
                    should_stop,
                    on_done,
                )
            for i, g in done.items():
                results[i] = g
        return [r if r is not None else EngineError("not generated") for r in results]

    def _add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        return self._dctx().add(token, pos, seq, logits)

    def _run(self) -> None:
        self._dctx().run(self.role)

    def _logits(self, j: int) -> npt.NDArray[np.float32]:
        ptr = llama_cpp.llama_get_logits_ith(self.ctx, j)
        view = np.ctypeslib.as_array(ptr, shape=(self.shared.n_vocab,))
        return jitter.row(view, (jitter.SCORE, int(self.batch.n_tokens), j))

    def close(self) -> None:
        if self.dctx is not None:
            dctx, self.dctx = self.dctx, None
            self.shared.drop_context(dctx)
            self.shared.release()
