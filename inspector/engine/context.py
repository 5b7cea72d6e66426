"""One decode context for both sides of a pair on the same weights: the sides take turns on it, each with its adapter.

Two contexts (one per side) doubled everything a context holds besides the weights: on Gemma 3 270M that is a
147 MB KV cache, a 32 MB logits buffer and the compute buffer, so a pair took 1.39x the memory of the base alone.
One context shared by the sides costs the adapter's few megabytes more. The price is that the sides cannot decode
at the same instant, which on a CPU they could not do at full speed anyway (both would need all the cores), and
an adapter switch (llama.cpp re-reserves its compute graph: about 7 ms) whenever the other side takes a turn.

Generation runs on per-sequence KV streams; scoring, preference questions and prompts longer than a stream run on
a second, unified context, made only if such work comes (so a generation-only run holds one cache).

Turns are handed out first come, first served. A side that holds the context keeps it for as many decodes as it
likes while nobody waits, and for at least `BURST` decodes when somebody does, so that two panes streaming at once
(Compare) alternate every few tokens instead of paying a switch per token. Sequence ids and KV cells are lent per
chunk of prompts: a chunk waits (without holding a turn) until the cache has room for it.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import llama_cpp
import numpy as np
import numpy.typing as npt

from inspector.engine import jitter
from inspector.engine.base import EngineError
from inspector.engine.llama import _stderr_silenced

if TYPE_CHECKING:
    from inspector.engine.weights import SharedModel

BURST = 8  # decodes a side keeps the context for before it lets a waiting side have a turn


class DecodeContext:
    """Up to two llama_contexts on one model, each made on first use, and one llama_batch: `split` gives every
    sequence a KV stream of its own of ctx_per_seq cells, for batched generation; `wide` is one unified cache
    of n_seq * ctx_per_seq cells, for work that lays out sequences as it likes (scoring, preference questions
    with a shared prefix) and prompts longer than a stream."""

    def __init__(self, shared: SharedModel, n_seq: int, ctx_per_seq: int, n_threads: int | None) -> None:
        self.shared, self.n_seq, self.ctx_per_seq = shared, n_seq, ctx_per_seq
        self.n_ctx = n_seq * ctx_per_seq
        self.n_batch = max(512, n_seq * 32)
        self.threads = n_threads or os.cpu_count() or 1
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._made: dict[bool, Any] = {}  # wide? -> llama_context
        self._scale: dict[bool, float | None] = {}  # the adapter scale now set on each; None: no adapter
        self.ctx: Any = None  # the context of the current turn
        self.wide = False  # whether that is the wide one
        self.memory: Any = None
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        # Per context (wide?): free sequence ids, free cells, and ids given back whose cells still hold a finished
        # chunk's tokens.
        self._free_seqs = {w: list(range(n_seq)) for w in (False, True)}
        self._free_cells = dict.fromkeys((False, True), self.n_ctx)
        self._stale: dict[bool, set[int]] = {False: set(), True: set()}
        self._users = 0

    def _context(self, wide: bool) -> Any:
        if wide in self._made:
            return self._made[wide]
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx = self.n_ctx
        cp.n_batch = cp.n_ubatch = self.n_batch
        cp.n_seq_max = self.n_seq
        # Per-sequence streams (split) decode a batch 3-8% faster than one unified cache, where every token
        # attends over (masked) cells of all sequences. But llama.cpp cuts a split batch into one micro-batch per
        # run of contiguous sequence ids, each a pass over the weights, so the holes that sequences stopped at end
        # of text leave are filled with a throwaway token (engine/batched.py): measured with 32 sequences, 8
        # stopping early, 136 tokens/s with holes, 159-162 filled, 156-158 unified.
        cp.kv_unified = wide
        cp.n_threads = cp.n_threads_batch = self.threads
        with _stderr_silenced():
            ctx = llama_cpp.llama_init_from_model(self.shared.model, cp)
        if not ctx:
            raise EngineError(f"{self.shared.path}: llama.cpp could not create a context")
        self._made[wide] = ctx
        self._scale[wide] = None
        return ctx

    def acquire(self) -> None:
        with self._cond:
            self._users += 1

    def release(self) -> bool:
        """One user fewer; frees the context with the last one and says so."""
        with self._cond:
            self._users -= 1
            if self._users > 0:
                return False
        # Wait for any chunk still decoding (another thread's) to give its sequences back before freeing.
        with self.lend(self.n_seq, self.n_ctx), self.lend(self.n_seq, self.n_ctx, wide=True):
            pass
        llama_cpp.llama_batch_free(self.batch)
        for ctx in self._made.values():
            llama_cpp.llama_free(ctx)
        self._made, self.ctx = {}, None
        return True

    # Turns ------------------------------------------------------------------------------------------------------

    def _take_turn(self) -> None:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket:
                self._cond.wait()

    def _end_turn(self) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    def others_waiting(self) -> bool:
        with self._cond:
            return self._next_ticket - self._serving > 1

    @contextmanager
    def turn(self, scale: float | None, wide: bool = False) -> Iterator[None]:
        """The split (or wide) context to oneself, with the adapter at `scale` (None or 0: no adapter)."""
        self._take_turn()
        try:
            self._enter(scale, wide)
            yield
        finally:
            self._end_turn()

    def yield_turn(self, scale: float | None, wide: bool = False) -> None:
        """Between two decodes of one's turn: let a waiting side decode, then continue as before."""
        if self.others_waiting():
            self._end_turn()
            self._take_turn()
            self._enter(scale, wide)

    def _enter(self, scale: float | None, wide: bool) -> None:
        self.ctx, self.wide = self._context(wide), wide
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self._set_adapter(scale, wide)
        self._sweep(wide)

    def _set_adapter(self, scale: float | None, wide: bool) -> None:
        # At scale 0 the adapter is not set at all: the context is then the base's, exactly, rather than the
        # base plus a zeroed product whose extra graph nodes llama.cpp does not promise leave the sums alone.
        want = scale if scale else None
        if want == self._scale[wide]:
            return
        adapter = self.shared.adapter
        if want is None or adapter is None:
            rc = llama_cpp.llama_set_adapters_lora(self.ctx, None, 0, None)
        else:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(want)
            rc = llama_cpp.llama_set_adapters_lora(self.ctx, adapters, 1, scales)
        if rc != 0:
            raise EngineError(f"{self.shared.adapter_path}: llama.cpp refused to apply the adapter")
        self._scale[wide] = want

    # Room in the cache ------------------------------------------------------------------------------------------

    @contextmanager
    def lend(self, n_seqs: int, cells: int, wide: bool = False) -> Iterator[list[int]]:
        """n_seqs sequence ids of the split (or wide) context and room for `cells` tokens, waiting until another
        side's chunk gives them back. The ids come empty: what a previous chunk left in them is removed at the
        start of the next turn on that context."""
        if n_seqs > self.n_seq or cells > self.n_ctx:
            raise EngineError(f"{n_seqs} sequences of {cells} tokens do not fit a context of {self.n_ctx}")
        with self._cond:
            while len(self._free_seqs[wide]) < n_seqs or self._free_cells[wide] < cells:
                self._cond.wait()
            ids, self._free_seqs[wide] = self._free_seqs[wide][:n_seqs], self._free_seqs[wide][n_seqs:]
            self._free_cells[wide] -= cells
        try:
            yield ids
        finally:
            with self._cond:
                self._stale[wide].update(ids)
                self._free_seqs[wide] = sorted(self._free_seqs[wide] + ids)
                self._free_cells[wide] += cells
                self._cond.notify_all()

    @contextmanager
    def exclusive(self, scale: float | None) -> Iterator[None]:
        """Every sequence id of the wide context and a turn on it, for work that lays sequences out as it likes."""
        with self.lend(self.n_seq, self.n_ctx, wide=True), self.turn(scale, wide=True):
            yield

    def _sweep(self, wide: bool) -> None:
        """Empty the cells of sequences given back since the last turn on this context. Under a turn only:
        llama.cpp's cache is not safe to change while another thread decodes. Only the metadata goes: the old
        contents are masked out, and writing 147 MB of zeros would make every page of the cache resident whether
        it is used or not."""
        with self._cond:
            stale, self._stale[wide] = self._stale[wide], set()
        if len(stale) == self.n_seq:
            llama_cpp.llama_memory_clear(self.memory, False)
        else:
            for s in sorted(stale):
                llama_cpp.llama_memory_seq_rm(self.memory, s, -1, -1)

    # The batch --------------------------------------------------------------------------------------------------

    def add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        b = self.batch
        j = int(b.n_tokens)
        b.token[j], b.pos[j], b.n_seq_id[j] = token, pos, 1
        b.seq_id[j][0] = seq
        b.logits[j] = logits
        b.n_tokens = j + 1
        return j

    def run(self, who: str) -> None:
        if llama_cpp.llama_decode(self.ctx, self.batch) != 0:
            raise EngineError(f"{who}: llama_decode failed (context full?)")

    def logits(self, rows: int) -> npt.NDArray[np.float32]:
        """The last decode's requested logits, one row per requested token in batch order (a view: valid until the
        next decode, whichever side makes it)."""
        ptr = llama_cpp.llama_get_logits(self.ctx)
        view = np.ctypeslib.as_array(ptr, shape=(rows, self.shared.n_vocab))
        return jitter.rows(view, (jitter.GENERATE, int(self.wide), int(self.batch.n_tokens)))
