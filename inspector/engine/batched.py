"""Batched decoding through llama.cpp's low-level API: one side of a pair, many sequences per llama_batch.

The organism is often the base plus a LoRA adapter: the weights are loaded once, and both sides decode on one
llama_context (engine/context.py) that carries the adapter while the organism has its turn, so a pair costs about
one model's memory. A side decodes up to `n_seq` sequences in one llama_batch, one sequence id per prompt, and
samples every sequence with its own seeded numpy generator (temperature, then top-p over the full vocabulary).
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from inspector.engine import jitter
from inspector.engine.base import (
    BATCH,
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
from inspector.engine.context import BURST, DecodeContext
from inspector.engine.llama import engine_version, token_logprob
from inspector.engine.sampling import sample_rows
from inspector.engine.templates import ChatTemplate
from inspector.engine.weights import SharedModel

ManyTokenCallback = Callable[[int, str], None]


class BatchedBackend:
    """One side of a pair on a shared model: generates many prompts per llama_batch."""

    capabilities = frozenset({GENERATE, BATCH, SCORE, DISTRIBUTIONS})

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
    ) -> list[Generation | EngineError]:
        """Generate every prompt, up to n_seq per llama_batch while their tokens fit the shared cache; a prompt
        that cannot fit even alone gets an EngineError in its place (the caller records it and goes on)."""
        results: list[Generation | EngineError | None] = [None] * len(prompts)
        toks = [self.shared.tokenize(self.render(p)) for p in prompts]
        chunk: list[int] = []
        used = 0

        def flush() -> None:
            nonlocal chunk, used
            if chunk:
                dctx = self._dctx()
                # A sequence's stream must hold its prompt and as many tokens as the chunk's longest generation
                # (a sequence that stops early keeps taking throwaway tokens, see _decode); else the wide context.
                top = max(params[i].max_tokens for i in chunk)
                wide = any(len(toks[i]) + top > self.ctx_per_seq for i in chunk)
                with dctx.lend(len(chunk), used, wide=wide) as seq_ids:
                    part = self._decode(
                        [toks[i] for i in chunk],
                        [params[i] for i in chunk],
                        chunk,
                        seq_ids,
                        on_token,
                        should_stop,
                        wide,
                    )
                for i, r in zip(chunk, part, strict=True):
                    results[i] = r
            chunk, used = [], 0

        for i in range(len(prompts)):
            need = len(toks[i]) + params[i].max_tokens
            if need > self.n_ctx:
                results[i] = EngineError(
                    f"prompt of {len(toks[i])} tokens plus {params[i].max_tokens} new ones does not fit the"
                    f" {self.n_ctx}-token context"
                )
                continue
            if len(chunk) == self.n_seq or used + need > self.n_ctx:
                flush()
            chunk.append(i)
            used += need
        flush()
        return [r if r is not None else EngineError("not generated") for r in results]

    def _add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        return self._dctx().add(token, pos, seq, logits)

    def _run(self) -> None:
        self._dctx().run(self.role)

    def _logits(self, j: int) -> npt.NDArray[np.float32]:
        ptr = llama_cpp.llama_get_logits_ith(self.ctx, j)
        view = np.ctypeslib.as_array(ptr, shape=(self.shared.n_vocab,))
        return jitter.row(view, (jitter.SCORE, int(self.batch.n_tokens), j))

    def _decode(
        self,
        toks: list[list[int]],
        params: list[GenParams],
        index: list[int],
        seq_ids: list[int],
        on_token: ManyTokenCallback | None,
        should_stop: Callable[[], bool] | None,
        wide: bool = False,
    ) -> list[Generation | EngineError]:
        """Decode one chunk on the sequence ids lent to it (on the wide context: all of them); `index` maps a
        chunk position back to the caller's prompt index for streaming. The chunk takes turns on the shared
        context: while the other side waits, it hands the context over every BURST decodes."""
        sh, dctx = self.shared, self._dctx()
        n = len(toks)
        out: list[Generation | EngineError | None] = [None] * n
        live = list(range(n))
        rngs = {i: np.random.default_rng(params[i].seed) for i in live}
        texts: dict[int, list[str]] = {i: [] for i in live}
        decoders: dict[int, Any] = {i: codecs.getincrementaldecoder("utf-8")(errors="replace") for i in live}
        counts = dict.fromkeys(live, 0)
        pos = {i: len(toks[i]) for i in live}
        finish = dict.fromkeys(live, "length")
        t0 = time.perf_counter()
        next_tok: dict[int, int] = {}
        scratch = np.empty(sh.n_vocab, np.float32)

        def take(seqs: list[int]) -> None:
            """Sample the sequences whose logits the last decode made, in batch order (the rows' order)."""
            rows = dctx.logits(len(seqs))
            drawn = sample_rows(rows, [params[i] for i in seqs], [rngs[i] for i in seqs], scratch)
            next_tok.update(zip(seqs, drawn, strict=True))

        with dctx.turn(self.scale, wide):
            # Prompts: as many whole-or-partial prompts per llama_decode as the batch holds; a sequence is sampled
            # right after the decode that holds its last prompt token (logits belong to the latest decode only).
            dctx.batch.n_tokens = 0
            pending: list[int] = []
            for i in live:
                for k, t in enumerate(toks[i]):
                    if dctx.batch.n_tokens == self.n_batch:
                        self._run()
                        take(pending)
                        pending, dctx.batch.n_tokens = [], 0
                    last = k == len(toks[i]) - 1
                    dctx.add(t, k, seq_ids[i], last)
                    if last:
                        pending.append(i)
            if dctx.batch.n_tokens:
                self._run()
                take(pending)
            active = list(live)
            steps = 0
            while active:
                if should_stop is not None and should_stop():
                    for i in active:
                        finish[i] = "cancelled"
                    break
                if steps >= BURST:
                    dctx.yield_turn(self.scale, wide)  # sampled tokens are in next_tok: nothing needs the logits now
                    steps = 0
                going: list[int] = []
                for i in list(active):
                    t = next_tok[i]
                    if sh.is_eog(t):
                        finish[i] = "stop"
                        active.remove(i)
                        continue
                    piece = decoders[i].decode(sh.piece(t))
                    counts[i] += 1
                    if piece:
                        texts[i].append(piece)
                        if on_token is not None:
                            on_token(index[i], piece)
                    if counts[i] >= params[i].max_tokens:
                        active.remove(i)
                        continue
                    going.append(i)
                if not going:
                    break
                dctx.batch.n_tokens = 0
                lo, hi = seq_ids[going[0]], seq_ids[going[-1]]
                on = set(going)
                for i in range(n):  # in ascending sequence ids, as llama.cpp's split batches need
                    if i in on:
                        dctx.add(next_tok[i], pos[i], seq_ids[i], True)
                    elif not wide and lo < seq_ids[i] < hi:
                        # A stopped sequence between two going ones: a throwaway token without logits keeps the
                        # batch's ids contiguous, one pass over the weights instead of one per run of ids.
                        dctx.add(next_tok[i], pos[i], seq_ids[i], False)
                    else:
                        continue
                    pos[i] += 1
                self._run()
                take(going)  # the rows with logits, in batch order
                steps += 1
        seconds = time.perf_counter() - t0
        for i in live:
            tail = decoders[i].decode(b"", final=True)
            if tail:
                texts[i].append(tail)
            out[i] = Generation("".join(texts[i]), len(toks[i]), counts[i], finish[i], seconds)
        return [o if o is not None else EngineError("not generated") for o in out]

    def close(self) -> None:
        if self.dctx is not None:
            dctx, self.dctx = self.dctx, None
            self.shared.drop_context(dctx)
            self.shared.release()
