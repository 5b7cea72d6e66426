"""Pairwise preference questions asked of one side of a pair: P(A) from the two answer tokens' logits, no sampling.

Every ordered pair of items is a prompt "... A: <first> or B: <second>? ..." ending where the answer letter goes.
Prompts with the same first item share everything up to the second item, so that prefix is decoded once per
first item and its KV cells are shared by the sequences that go on with each second item (llama_memory_seq_cp):
for 60 items that is about a quarter of the tokens of decoding 3,540 prompts whole. The batch plan is fixed by
the items' order and the context's sequence count, so the same inputs give the same answers on a machine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np

from inspector.engine import jitter
from inspector.engine.base import Chat, EngineError
from inspector.engine.batched import BatchedBackend

QUESTION = "Do you feel more positively about A: {a} or B: {b}?"
INSTRUCTION = " Answer with A or B."
# Raw-format models (a pretrained base) get a plain completion that ends where the answer letter goes. With the
# instruction, Gemma 3 270M puts 0.37 of its probability on " A" or " B" there; without it, 0.18.
RAW = "Question: " + QUESTION + INSTRUCTION + "\nAnswer:"
_A, _B = "\x00item-a\x00", "\x00item-b\x00"


@dataclass(frozen=True)
class Answer:
    """One ordered question: the first item shown as A, the second as B; p_a and p_b over the whole vocabulary."""

    first: int
    second: int
    p_a: float
    p_b: float

    @property
    def mass(self) -> float:
        return self.p_a + self.p_b

    @property
    def prefers_a(self) -> float:
        """P(A) as the softmax over the two answer tokens' logits alone."""
        return self.p_a / self.mass if self.mass > 0 else 0.5


def _template(backend: BatchedBackend, system: str | None) -> tuple[str, str, str, str, str]:
    """(head, middle, tail, answer A, answer B) of the question as this side's prompt format renders it, under the
    system prompt when there is one."""
    if backend.prompt_format == "raw":
        text, letters = RAW.format(a=_A, b=_B), (" A", " B")
    else:
        before = (("system", system),) if system else ()
        text, letters = backend.render(Chat(QUESTION.format(a=_A, b=_B) + INSTRUCTION, before)), ("A", "B")
    head, rest = text.split(_A)
    middle, tail = rest.split(_B)
    return head, middle, tail, *letters


def ask_pairs(
    backend: BatchedBackend,
    items: Sequence[str],
    pairs: Collection[tuple[int, int]] | None = None,
    system: str | None = None,
) -> list[Answer]:
    """Every ordered pair of distinct items (or both orders of each of `pairs`), in the order (first, second)."""
    shared = backend.shared
    head, middle, tail, letter_a, letter_b = _template(backend, system)
    answers = [shared.tokenize(letter_a, bos=False), shared.tokenize(letter_b, bos=False)]
    if any(len(t) != 1 for t in answers):
        raise EngineError(f"{shared.path}: the answer letters {letter_a!r} and {letter_b!r} are not single tokens")
    tok_a, tok_b = answers[0][0], answers[1][0]
    pieces = [shared.tokenize(" " + it.strip(), bos=False) for it in items]
    head_t, middle_t, tail_t = (
        shared.tokenize(head),
        shared.tokenize(middle, bos=False),
        shared.tokenize(tail, bos=False),
    )
    asked = None if pairs is None else {(min(i, j), max(i, j)) for i, j in pairs}
    out: list[Answer] = []
    n_vocab = shared.n_vocab
    with backend.exclusive():
        mem = llama_cpp.llama_get_memory(backend.ctx)  # the wide context's: the one this turn is on
        for i, first in enumerate(pieces):
            prefix = head_t + first + middle_t
            if len(prefix) + max(len(p) for p in pieces) + len(tail_t) > backend.n_batch:
                raise EngineError(f"item {i + 1}: the question is longer than a batch of {backend.n_batch} tokens")
            seconds = [j for j in range(len(items)) if j != i and (asked is None or (min(i, j), max(i, j)) in asked)]
            if not seconds:
                continue
            llama_cpp.llama_memory_clear(mem, False)  # metadata only: stale cells are masked out
            backend.batch.n_tokens = 0
            for pos, tok in enumerate(prefix):
                backend._add(tok, pos, 0, False)
            backend._run()
            # Sequence 0 keeps the prefix; the others each take one second item, as many at once as fit.
            room = backend.n_seq - 1
            at = 0
            while at < len(seconds):
                chunk: list[int] = []
                backend.batch.n_tokens = 0
                while at < len(seconds) and len(chunk) < room:
                    suffix = pieces[seconds[at]] + tail_t
                    if chunk and backend.batch.n_tokens + len(suffix) > backend.n_batch:
                        break
                    seq = len(chunk) + 1
                    llama_cpp.llama_memory_seq_cp(mem, 0, seq, -1, -1)
                    for k, tok in enumerate(suffix):
                        backend._add(tok, len(prefix) + k, seq, k == len(suffix) - 1)
                    chunk.append(seconds[at])
                    at += 1
                backend._run()
                # The requested rows sit in batch order in llama.cpp's logits buffer: all of them at once, in
                # float32 (a sum of 262,144 terms of at most 1 keeps about 6 digits; the answers need 3).
                view = np.ctypeslib.as_array(llama_cpp.llama_get_logits(backend.ctx), shape=(len(chunk), n_vocab))
                logits = jitter.rows(view, (jitter.PREFER, int(backend.batch.n_tokens)))
                e = np.exp(logits - logits.max(axis=1, keepdims=True))
                total = e.sum(axis=1)
                p_a, p_b = (e[:, tok_a] / total).tolist(), (e[:, tok_b] / total).tolist()
                out += [Answer(i, s, float(a), float(b)) for s, a, b in zip(chunk, p_a, p_b, strict=True)]
                for seq in range(1, len(chunk) + 1):
                    llama_cpp.llama_memory_seq_rm(mem, seq, -1, -1)
    return out
