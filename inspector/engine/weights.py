"""One GGUF's weights in memory, with its tokenizer, an optional LoRA adapter and the decode contexts made on it."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import llama_cpp

from inspector.engine.base import EngineError
from inspector.engine.context import DecodeContext
from inspector.engine.llama import _quiet_llama_cpp, _stderr_silenced, check_files
from inspector.engine.lora_rank import padded_adapter
from inspector.engine.provenance import sha256_file

_BACKEND_READY = threading.Lock()
_backend_started = False


def _backend_init() -> None:
    global _backend_started
    with _BACKEND_READY:
        if not _backend_started:
            llama_cpp.llama_backend_init()
            _backend_started = True


class SharedModel:
    """One GGUF's weights in memory, plus an optional LoRA adapter that contexts may switch on."""

    def __init__(self, path: Path, adapter: Path | None = None, cache_dir: Path | None = None) -> None:
        self.path, self.adapter_path = path, adapter
        self.architecture, self.quantization = check_files(path, adapter)
        _backend_init()
        _quiet_llama_cpp()
        params = llama_cpp.llama_model_default_params()
        with _stderr_silenced():
            self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        if not self.model:
            raise EngineError(f"{path}: llama.cpp could not load it (truncated or unsupported GGUF?)")
        self.adapter = None
        self.adapter_sha256 = sha256_file(adapter, cache_dir) if adapter else None
        if adapter is not None and self.adapter_sha256 is not None:
            # Its rank padded for llama.cpp's fast kernels when it needs it (engine/lora_rank.py): the same product.
            loaded = padded_adapter(adapter, self.adapter_sha256, cache_dir)
            with _stderr_silenced():
                self.adapter = llama_cpp.llama_adapter_lora_init(self.model, str(loaded).encode())
            if not self.adapter:
                raise EngineError(f"{adapter}: llama.cpp could not load the LoRA adapter")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.sha256 = sha256_file(path, cache_dir)
        self.chat_template = self._meta("tokenizer.chat_template")
        self._users = 0  # backends still open on these weights
        self._closed = False
        self._contexts: dict[tuple[int, int, int | None], DecodeContext] = {}
        self._contexts_lock = threading.Lock()

    def context(self, n_seq: int, ctx_per_seq: int, n_threads: int | None) -> DecodeContext:
        """The decode context of that shape on these weights, made by the first side that asks and shared with
        the other (see engine/context.py)."""
        key = (n_seq, ctx_per_seq, n_threads)
        with self._contexts_lock:
            ctx = self._contexts.get(key)
            if ctx is None:
                ctx = self._contexts[key] = DecodeContext(self, n_seq, ctx_per_seq, n_threads)
            ctx.acquire()
            return ctx

    def drop_context(self, ctx: DecodeContext) -> None:
        with self._contexts_lock:
            if ctx.release():
                self._contexts = {k: c for k, c in self._contexts.items() if c is not ctx}

    def _meta(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(1 << 16)
        n = llama_cpp.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", errors="replace") if n >= 0 else None

    def text_starts_at(self, toks: list[int]) -> int:
        """Where a tokenized text's own tokens begin: after BOS for a model that adds one (Gemma), at 0 for one that
        adds none (SmolLM2)."""
        return 1 if toks and toks[0] == llama_cpp.llama_vocab_bos(self.vocab) else 0

    def tokenize(self, text: str, bos: bool = True) -> list[int]:
        """Tokens of a text; bos=False for a piece that continues other tokens."""
        data = text.encode("utf-8")
        cap = len(data) + 16
        out = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), out, cap, bos, True)
        if n < 0:  # the buffer was too small: -n is the size needed
            out = (llama_cpp.llama_token * -n)()
            n = llama_cpp.llama_tokenize(self.vocab, data, len(data), out, -n, bos, True)
        return list(out[:n])

    def piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def is_eog(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def acquire(self) -> None:
        self._users += 1

    def release(self) -> None:
        self._users -= 1
        if self._users <= 0:
            self.close()

    def close(self) -> None:
        if not self._closed:
            if self.adapter:
                llama_cpp.llama_adapter_lora_free(self.adapter)
            llama_cpp.llama_model_free(self.model)
            self._closed = True
