"""llama-cpp-python backend: loads a GGUF in-process, optionally with a LoRA adapter, and streams text."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from inspector.engine import jitter
from inspector.engine.base import (
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
from inspector.engine.gguf_meta import read_header
from inspector.engine.provenance import sha256_file


def _quiet_llama_cpp() -> None:
    # llama-cpp-python prints llama.cpp's level-0 notes ("using full-size SWA cache") even when not verbose;
    # they would break the one-line error contract. INSPECTOR_LLAMA_LOG=1 keeps them for debugging.
    if not os.environ.get("INSPECTOR_LLAMA_LOG"):
        logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL + 1)


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """llama.cpp writes notes such as 'cannot use buft CPU_REPACK' straight to file descriptor 2 while loading
    an adapter; they are harmless but would break the one-line error contract and the TUI."""
    if os.environ.get("INSPECTOR_LLAMA_LOG"):
        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def token_logprob(logits: npt.NDArray[np.float32], token: int) -> float:
    """log softmax(logits)[token], computed in float64."""
    x = logits.astype(np.float64)
    top = x.max()
    return float(x[token] - top - np.log(np.exp(x - top).sum()))


def _jittered(_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return jitter.row(np.asarray(scores, dtype=np.float32), (jitter.HIGH_LEVEL, 0))


def engine_version() -> str:
    return f"llama-cpp-python {llama_cpp.__version__}"


def check_files(model: Path, adapter: Path | None) -> tuple[str, str]:
    """Fail early, with the file's name, on a missing or foreign GGUF or a mismatched adapter."""
    head = read_header(model)
    if head.is_adapter:
        raise EngineError(f"{model}: is a LoRA adapter, not a model")
    if adapter is not None:
        ahead = read_header(adapter)
        if not ahead.is_adapter:
            raise EngineError(f"{adapter}: is not a LoRA adapter GGUF (general.type is not 'adapter')")
        if ahead.architecture != head.architecture:
            raise EngineError(
                f"{adapter}: adapter is for architecture '{ahead.architecture}', "
                f"but {model.name} is '{head.architecture}'"
            )
    return head.architecture, head.file_type


class LlamaBackend:
    """One llama.cpp model (plus optional adapter) in this process."""

    capabilities = frozenset({GENERATE, SCORE})

    def __init__(
        self,
        model_path: Path,
        *,
        role: str = "model",
        adapter_path: Path | None = None,
        prompt_format: PromptFormat = "raw",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.role = role
        self.prompt_format = prompt_format
        self.model_path = model_path
        self.adapter_path = adapter_path
        self.n_ctx = n_ctx
        arch, quant = check_files(model_path, adapter_path)
        _quiet_llama_cpp()
        try:
            with _stderr_silenced():
                self.llm = llama_cpp.Llama(
                    model_path=str(model_path),
                    lora_path=str(adapter_path) if adapter_path else None,
                    n_ctx=n_ctx,
                    # llama-cpp-python defaults to half the cores: on a 2-core laptop that halves speed.
                    n_threads=n_threads or os.cpu_count() or 1,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as e:
            what = adapter_path if adapter_path and "lora" in str(e).lower() else model_path
            raise EngineError(f"{what}: llama.cpp could not load it ({str(e).splitlines()[0]})") from e
        _quiet_llama_cpp()  # Llama() resets the level, so set it after each load
        template = self.llm.metadata.get("tokenizer.chat_template")
        self._info = ModelInfo(
            role=role,
            path=str(model_path.resolve()),
            sha256=sha256_file(model_path, cache_dir),
            adapter_path=str(adapter_path.resolve()) if adapter_path else None,
            adapter_sha256=sha256_file(adapter_path, cache_dir) if adapter_path else None,
            quantization=quant,
            architecture=arch,
            engine_version=engine_version(),
            chat_template_sha256=hashlib.sha256(template.encode()).hexdigest() if template else None,
            extra={"n_ctx": n_ctx, "prompt_format": prompt_format},
        )
        if prompt_format == "chat" and not template:
            raise EngineError(f"{model_path}: format is 'chat' but the GGUF has no chat template")

    def info(self) -> ModelInfo:
        return self._info

    def _stream(self, prompt: Prompt, params: GenParams) -> Iterator[tuple[str, str | None]]:
        common: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stream": True,
        }
        if jitter.setting() is not None:
            # llama.cpp samples inside its own chain here; a logits processor is the one place the row is ours.
            common["logits_processor"] = llama_cpp.LogitsProcessorList([_jittered])
        if self.prompt_format == "chat":
            messages: Any = as_chat(prompt).messages()
            chunks: Any = self.llm.create_chat_completion(messages=messages, **common)
            for c in chunks:
                choice = c["choices"][0]
                yield choice["delta"].get("content") or "", choice.get("finish_reason")
        else:
            stream: Any = self.llm.create_completion(raw_text(prompt, self.role), **common)
            for c in stream:
                choice = c["choices"][0]
                yield choice["text"], choice.get("finish_reason")

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: TokenCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
        # Re-evaluating the prompt from an empty cache keeps a seed's text independent of what ran before.
        self.llm.reset()  # type: ignore[no-untyped-call]
        # The conversation's own text stands in for its rendering here: the check is for prompts far too long.
        text = "\n".join(m["content"] for m in as_chat(prompt).messages())
        n_prompt = len(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        # The requested n_ctx, not llama.cpp's padded one: llama-cpp-python sizes its buffers by the request.
        if n_prompt + 1 > self.n_ctx:
            raise EngineError(f"prompt of {n_prompt} tokens does not fit the context of {self.n_ctx}")
        t0 = time.perf_counter()
        parts: list[str] = []
        n_tokens = 0
        finish = "length"
        try:
            for text, reason in self._stream(prompt, params):
                if should_stop is not None and should_stop():
                    finish = "cancelled"
                    break
                if text:
                    parts.append(text)
                    n_tokens += 1
                    if on_token is not None:
                        on_token(text)
                if reason:
                    finish = reason
        except (ValueError, RuntimeError) as e:
            raise EngineError(f"{self.role}: generation failed ({str(e).splitlines()[0]})") from e
        return Generation(
            text="".join(parts),
            prompt_tokens=n_prompt,
            completion_tokens=n_tokens,
            finish_reason=finish,
            seconds=time.perf_counter() - t0,
        )

    def score(self, text: str) -> list[float]:
        """Per-token log-probabilities, one token per llama_decode (the reference path the batched engine's
        scoring is checked against); same tokens and positions as BatchedBackend.score."""
        toks = self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        if len(toks) > self.n_ctx:
            raise EngineError(f"text of {len(toks)} tokens is longer than the context of {self.n_ctx}")
        self.llm.reset()  # type: ignore[no-untyped-call]
        out = []
        n_vocab = self.llm.n_vocab()
        first = 1 if toks and toks[0] == self.llm.token_bos() else 0  # a model may add no BOS (SmolLM2)
        for k in range(len(toks) - 1):
            # One token per decode, reading that position's logits straight from llama.cpp (llama-cpp-python
            # keeps no per-position rows unless the context was made with logits_all).
            self.llm.eval([toks[k]])
            if k >= first:  # from the second token of the text on, as in the batched engine
                view = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llm.ctx, -1), shape=(n_vocab,))
                row = jitter.row(view, (jitter.HIGH_LEVEL, 1))
                out.append(token_logprob(row, toks[k + 1]))
        self.llm.reset()  # type: ignore[no-untyped-call]
        return out

    def close(self) -> None:
        with _stderr_silenced():  # llama.cpp notes its cache type again while freeing
            self.llm.close()
