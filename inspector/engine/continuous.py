"""Continuous batching for one side of a pair: a fixed number of slots decode together, and a slot whose sequence
ends takes the next prompt at once, its prompt decoded in the same llama_decode as the other slots' next tokens.

A static batch leaves a finished sequence's slot idle (or filled with a throwaway token) until the whole batch
ends, so a workload whose sequences stop at end of text at very different lengths wastes much of each pass over
the weights. Here the slots stay busy until the prompts run out; only the last few sequences run with holes.

The schedule depends on nothing but the prompts' token counts, their order and when each sequence ends, so on one
machine the same window of prompts decodes into the same texts every time: the window is the unit a resumed run
redoes whole (actions/rollouts.py). Which prompts share a decode does move a sequence's logits in their last bits
(other kernels' tiling), as a static batch's composition did; that is why the unit is redone whole.
"""

from __future__ import annotations

import codecs
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import llama_cpp
import numpy as np

from inspector.engine.base import EngineError, Generation, GenParams
from inspector.engine.context import BURST
from inspector.engine.sampling import sample_rows

if TYPE_CHECKING:
    from inspector.engine.context import DecodeContext
    from inspector.engine.weights import SharedModel

ManyTokenCallback = Callable[[int, str], None]


@dataclass
class _Seq:
    """One prompt's sequence while it holds a slot: its tokens fed so far, what it has generated, how it ended."""

    index: int  # the caller's prompt index
    prompt: list[int]
    params: GenParams
    rng: np.random.Generator
    started: float
    fed: int = 0  # prompt tokens decoded so far (a long prompt may take several decodes)
    pos: int = 0  # the position its next token goes to
    next_tok: int = -1  # sampled, to be fed at the next decode
    count: int = 0
    texts: list[str] = field(default_factory=list)
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))


def decode_continuous(
    shared: SharedModel,
    dctx: DecodeContext,
    who: str,
    scale: float | None,
    where: tuple[bool, int],
    seq_ids: list[int],
    order: Sequence[int],
    toks: Sequence[list[int]],
    params: Sequence[GenParams],
    on_token: ManyTokenCallback | None,
    should_stop: Callable[[], bool] | None,
    on_done: Callable[[int, Generation], None] | None = None,
) -> dict[int, Generation]:
    """Generate the prompts `order` names (indices into toks and params), admitted in that order into the slots
    `seq_ids` as they free up. `where` is (wide?, cells): on the split context (per-sequence KV streams) every
    prompt plus its new tokens must fit one stream; on the wide one a prompt is admitted only while the cells
    reserved for the running sequences and it fit the `cells` lent. Returns each prompt's generation by index; a
    stop leaves the rest "cancelled"."""
    wide, cells = where
    out: dict[int, Generation] = {}
    queue = deque(order)
    slots: dict[int, _Seq | None] = dict.fromkeys(seq_ids)  # sequence id -> what it decodes now
    reserved = 0  # cells the running sequences may come to hold (wide context only)
    scratch = np.empty(shared.n_vocab, np.float32)
    n_batch = dctx.n_batch

    def finish(seq: int, reason: str) -> None:
        nonlocal reserved
        s = slots[seq]
        assert s is not None
        tail = s.decoder.decode(b"", final=True)
        if tail:
            s.texts.append(tail)
        out[s.index] = Generation("".join(s.texts), len(s.prompt), s.count, reason, time.perf_counter() - s.started)
        if on_done is not None:
            on_done(s.index, out[s.index])
        reserved -= len(s.prompt) + s.params.max_tokens
        slots[seq] = None

    def admit() -> None:
        """Free slots take the next prompts, lowest sequence id first."""
        nonlocal reserved
        for seq in seq_ids:
            if not queue:
                return
            if slots[seq] is not None:
                continue
            i = queue[0]
            need = len(toks[i]) + params[i].max_tokens
            if wide and reserved + need > cells:
                return  # waits for cells; the order of admission stays the prompts' order
            queue.popleft()
            reserved += need
            slots[seq] = _Seq(i, toks[i], params[i], np.random.default_rng(params[i].seed), time.perf_counter())

    def take(seq: int, tok: int) -> None:
        """A sampled token: the end of the sequence, or a piece of its text and the next token to feed."""
        s = slots[seq]
        assert s is not None
        if shared.is_eog(tok):
            finish(seq, "stop")
            return
        piece = s.decoder.decode(shared.piece(tok))
        s.count += 1
        if piece:
            s.texts.append(piece)
            if on_token is not None:
                on_token(s.index, piece)
        if s.count >= s.params.max_tokens:
            finish(seq, "length")
        else:
            s.next_tok = tok

    with dctx.turn(scale, wide):
        memory = dctx.memory
        steps = 0
        while True:
            if should_stop is not None and should_stop():
                for seq, s in slots.items():
                    if s is not None:
                        finish(seq, "cancelled")
                for i in queue:
                    out[i] = Generation("", len(toks[i]), 0, "cancelled", 0.0)
                break
            if steps >= BURST:
                dctx.yield_turn(scale, wide)  # the sampled tokens are kept: nothing needs the logits now
                memory, steps = dctx.memory, 0
            admit()
            dctx.batch.n_tokens = 0
            # The slots already generating each take one token; prompts share what is left of the batch.
            room = n_batch - sum(1 for s in slots.values() if s is not None and s.fed == len(s.prompt))
            rows: list[int] = []  # sequence ids whose logits this decode makes, in batch order
            busy = [seq for seq, s in slots.items() if s is not None]
            lo, hi = (min(busy), max(busy)) if busy else (0, -1)
            for seq in sorted(slots):  # ascending sequence ids, as llama.cpp's split batches need
                s = slots[seq]
                if s is None:
                    if not wide and lo < seq < hi:
                        # A free slot between two busy ones: llama.cpp cuts a split batch into one pass over the
                        # weights per run of contiguous ids, so the hole takes a throwaway token (no logits) at
                        # position 0 of its emptied stream: one pass instead of two, and no cells piling up.
                        llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)
                        dctx.add(0, 0, seq, False)
                    continue
                if s.fed < len(s.prompt):
                    n = min(len(s.prompt) - s.fed, room)
                    if n <= 0:
                        continue
                    if s.fed == 0:
                        llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)  # what the slot's last sequence left
                    for k in range(s.fed, s.fed + n):
                        dctx.add(s.prompt[k], k, seq, k == len(s.prompt) - 1)
                    s.fed += n
                    s.pos = s.fed
                    room -= n
                    if s.fed == len(s.prompt):
                        rows.append(seq)
                else:
                    dctx.add(s.next_tok, s.pos, seq, True)
                    s.pos += 1
                    rows.append(seq)
            if not busy:
                break
            if dctx.batch.n_tokens == 0:
                raise EngineError(f"{who}: a decode with nothing to decode (batch of {n_batch} tokens)")
            dctx.run(who)
            steps += 1
            if rows:
                live = [slots[seq] for seq in rows]
                logits = dctx.logits(len(rows))
                drawn = sample_rows(logits, [s.params for s in live if s], [s.rng for s in live if s], scratch)
                for seq, tok in zip(rows, drawn, strict=True):
                    take(seq, tok)
    return out
