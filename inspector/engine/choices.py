"""Answer letters scored in-process: after each prompt, the log-probability of each letter as the next token, over
the whole vocabulary (as lm-eval scores MMLU: one-token continuations, so a continuation's log-likelihood is its
token's log-probability), no sampling.

A question's prompt is tokenized whole, then split where the caller says (before the question itself). The head
(chat template, subject line) is decoded once on sequence 0 and kept while the next prompts have the same head;
each question's own tokens are decoded on sequence 1, a copy of it, alone. On the chat demo pair the head is
about 40 of 88 tokens, and prompt decoding is bound by compute (on two cores a batch of 800 tokens runs no faster
per token than one of 80), so sharing the head halves the time. A question's scores depend only on its head and
itself, never on which other questions are asked with it. Decoding a prompt in two batches rather than one is
another path through llama.cpp's kernels: on SmolLM2 it moves a letter's log-probability by up to 0.27 nats
(0.07 typical), as other batch shapes do; the same prompt always takes the same path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import llama_cpp
import numpy as np

from inspector.engine.base import EngineError, Prompt
from inspector.engine.batched import BatchedBackend


def letter_tokens(backend: BatchedBackend, letters: Sequence[str]) -> list[int]:
    """The token of each answer letter as this side writes it next: " A" after a raw prompt's "Answer:", "A" at the
    start of a chat model's reply. A letter that is not one token cannot be scored as one continuation."""
    out = []
    for letter in letters:
        text = letter if backend.prompt_format == "chat" else " " + letter
        toks = backend.shared.tokenize(text, bos=False)
        if len(toks) != 1:
            raise EngineError(f"{backend.shared.path}: the answer {text!r} is not a single token")
        out.append(toks[0])
    return out


def split_tokens(backend: BatchedBackend, prompt: Prompt, at: str | None) -> tuple[list[int], list[int]]:
    """The prompt's tokens as the whole rendered text tokenizes (what a server or lm-eval would decode), cut in
    two: the head, the tokens it shares with the text before `at` tokenized alone (a tokenizer may merge across
    the cut, so the head ends where the two first differ), and the rest, never empty."""
    text = backend.render(prompt)
    toks = backend.shared.tokenize(text)
    i = text.find(at) if at else -1
    if i <= 0:
        return [], toks
    alone = backend.shared.tokenize(text[:i])
    k = 0
    while k < min(len(alone), len(toks) - 1) and alone[k] == toks[k]:
        k += 1
    return toks[:k], toks[k:]


def _feed(backend: BatchedBackend, tokens: Sequence[int], start: int, seq: int, last: bool) -> None:
    """Tokens decoded onto a sequence from position `start`, in as many batches as they need (an MMLU history
    question runs past a batch of 1,024 tokens), with logits only for the last token when `last`."""
    for at in range(0, len(tokens), backend.n_batch):
        chunk = tokens[at : at + backend.n_batch]
        backend.batch.n_tokens = 0
        for j, tok in enumerate(chunk):
            backend._add(tok, start + at + j, seq, last and at + j == len(tokens) - 1)
        backend._run()


def answer_logprobs(
    backend: BatchedBackend,
    prompts: Sequence[Prompt],
    letters: Sequence[Sequence[str]],
    split_at: Sequence[str | None] | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[list[float]]:
    """Per prompt, the natural-log probability of each of its letters as the next token after it (the prompt
    rendered by this side's format: a chat model's template ends where its reply begins). `split_at`: per prompt,
    the text where its head ends (the head is shared with the prompts around it that have the same one)."""
    if backend.n_seq < 2:
        raise EngineError(f"{backend.role}: scoring answers needs a context of at least 2 sequences")
    limit = backend.n_ctx  # the head and the question share the whole context's cells (the copy shares them too)
    known: dict[tuple[str, ...], list[int]] = {}
    cuts = split_at if split_at is not None else [None] * len(prompts)
    out: list[list[float]] = []
    with backend.exclusive():
        mem = llama_cpp.llama_get_memory(backend.ctx)
        kept: list[int] | None = None
        for k, (prompt, options, at) in enumerate(zip(prompts, letters, cuts, strict=True)):
            head_t, tail_t = split_tokens(backend, prompt, at)
            if len(head_t) + len(tail_t) > limit:
                raise EngineError(
                    f"question {k + 1}: its prompt of {len(head_t) + len(tail_t)} tokens is longer than the {limit}"
                    " decoded at once"
                )
            wanted = known.setdefault(tuple(options), letter_tokens(backend, options))
            if head_t != kept:
                llama_cpp.llama_memory_clear(mem, False)
                kept = head_t
                _feed(backend, head_t, 0, 0, False)
            llama_cpp.llama_memory_seq_cp(mem, 0, 1, -1, -1)
            _feed(backend, tail_t, len(head_t), 1, True)
            last = (len(tail_t) - 1) % backend.n_batch  # the last token's place in the last batch
            row = backend._logits(last).astype(np.float64)  # as the engine reads it, jitter and all
            llama_cpp.llama_memory_seq_rm(mem, 1, -1, -1)
            top = row.max()
            log_total = top + np.log(np.exp(row - top).sum())
            out.append([float(row[t] - log_total) for t in wanted])
            if on_done:
                on_done(k + 1)
    return out
