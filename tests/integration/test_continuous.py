"""Continuous batching on the real engine: a slot whose sequence ends takes the next prompt in the same decode as
the other slots' next tokens, each sequence is sampled from its own prompt's rows, and a window decodes to the same
texts again."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import inspector.engine.continuous as continuous
from inspector.config import PROJECT_ROOT
from inspector.engine.base import Generation, GenParams
from inspector.engine.batched import BatchedBackend
from inspector.engine.context import DecodeContext
from inspector.engine.registry import get_pair, open_pair
from tests.conftest import SHARED_CACHE
from tests.integration.test_batched import ROW_TOLERANCE, _log_softmax

pytestmark = pytest.mark.integration

PROMPTS = [
    "The river",
    "My favourite kettle is",
    "A good bicycle",
    "In 1850 the city of London",
    "Soup is best when",
    "The old lighthouse keeper said",
    "Three things to pack for a hike:",
]
LENGTHS = [2, 8, 3, 8, 6, 8, 4]  # the short ones end first and free their slots for the prompts still waiting


@pytest.fixture(scope="module")
def base() -> Iterator[BatchedBackend]:
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    backends = open_pair(pair, SHARED_CACHE, n_seq=4, ctx_per_seq=64)
    yield backends["base"]  # type: ignore[misc]
    for b in backends.values():
        b.close()


def test_a_freed_slot_takes_the_next_prompt_on_its_own_logits(
    base: BatchedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven prompts on four slots: the three waiting ones are admitted as the short ones end, their prompt tokens
    in the same llama_decode as the running sequences' next tokens. Every row a sequence is sampled from, while
    its tokens so far agree with the prompt decoded alone, must be that prompt's own next-token distribution
    (within the spread llama.cpp's batch shapes give), never the stream's previous sequence's."""
    real_sample, real_run = continuous.sample_rows, DecodeContext.run
    seen: dict[str, list[tuple[int, np.ndarray]]] = {}  # type: ignore[type-arg]
    mixed = [0]  # decodes that held a whole prompt beside another sequence's next token

    def recording(rows, params, rngs, scratch=None):  # type: ignore[no-untyped-def]
        seen[run] += [(p.seed, lp) for p, lp in zip(params, _log_softmax(rows), strict=True)]
        return real_sample(rows, params, rngs, scratch)

    def watching(self: DecodeContext, who: str) -> None:
        b = self.batch
        by_seq: dict[int, list[int]] = {}
        for j in range(int(b.n_tokens)):
            by_seq.setdefault(int(b.seq_id[j][0]), []).append(int(b.pos[j]))
        prompt = any(len(p) > 1 and p[0] == 0 for p in by_seq.values())
        going = any(len(p) == 1 and p[0] > 0 for p in by_seq.values())
        mixed[0] += prompt and going
        real_run(self, who)

    monkeypatch.setattr(continuous, "sample_rows", recording)
    monkeypatch.setattr(DecodeContext, "run", watching)
    greedy = [GenParams(seed=k, temperature=0.0, max_tokens=n) for k, n in enumerate(LENGTHS)]
    out: dict[str, list[Generation]] = {}
    run = "together"
    seen[run] = []
    out[run] = base.generate_many(PROMPTS, greedy)  # type: ignore[assignment]
    together_mixed = mixed[0]
    run = "alone"
    seen[run] = []
    out[run] = [base.generate_many([p], [gp])[0] for p, gp in zip(PROMPTS, greedy, strict=True)]  # type: ignore[misc]
    assert together_mixed >= 1  # a prompt was admitted beside running sequences
    for g, n in zip(out["together"], LENGTHS, strict=True):
        assert isinstance(g, Generation)
        assert g.completion_tokens == n or g.finish_reason == "stop"
    rows = {r: {k: [lp for s, lp in seen[r] if s == k] for k in range(len(PROMPTS))} for r in seen}
    for k in range(len(PROMPTS)):
        compared = 0
        for step, (a, b) in enumerate(zip(rows["alone"][k], rows["together"][k], strict=False)):
            top = np.argsort(-a)[:40]
            assert np.abs(a[top] - b[top]).max() < ROW_TOLERANCE, (PROMPTS[k], step)
            if step == 0:  # far from every other prompt's first row: the row is this prompt's, not a neighbour's
                others = [rows["alone"][j][0] for j in range(len(PROMPTS)) if j != k]
                assert all(np.abs(a[top] - o[top]).max() > 2 * ROW_TOLERANCE for o in others), PROMPTS[k]
            compared += 1
            if int(a.argmax()) != int(b.argmax()):
                break  # the texts part here: later rows follow other tokens
        assert compared >= min(2, LENGTHS[k])


def test_prompts_too_long_for_a_stream_go_to_the_wide_context_beside_the_others(base: BatchedBackend) -> None:
    """A prompt whose new tokens do not fit a 64-token stream runs on the wide context; the others still run on
    their streams, and every prompt gets its own number of tokens back, in the caller's order."""
    lengths = [4, 60, 5, 3]
    params = [GenParams(seed=k, temperature=0.8, max_tokens=n) for k, n in enumerate(lengths)]
    out = base.generate_many(PROMPTS[:4], params)
    for g, n in zip(out, lengths, strict=True):
        assert isinstance(g, Generation)
        assert g.completion_tokens == n or g.finish_reason == "stop"
        assert g.prompt_tokens == len(base.shared.tokenize(PROMPTS[lengths.index(n)]))


@pytest.mark.bit_exact
def test_a_window_decodes_to_the_same_texts_again(base: BatchedBackend) -> None:
    """The schedule depends only on the prompts and when each sequence ends, so the same window on the same
    machine gives the same texts: what a resumed run relies on when it redoes a window whole."""
    params = [GenParams(seed=10 + k, temperature=0.8, max_tokens=n) for k, n in enumerate(LENGTHS)]
    first = [g.text for g in base.generate_many(PROMPTS, params)]  # type: ignore[union-attr]
    again = [g.text for g in base.generate_many(PROMPTS, params)]  # type: ignore[union-attr]
    assert first == again and all(first)


def test_a_window_is_stored_as_its_sequences_end(base: BatchedBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's window of seven prompts on four slots is stored as its sequences end (here at every end), not once
    at the window's end, and each prompt is stored once."""
    import inspector.actions.window_landing as landing
    from inspector.actions.rollouts import run_batch
    from inspector.formats.prompt_files import make_prompt
    from inspector.store import Store

    monkeypatch.setattr(landing, "EARLY_STORE_SECONDS", 0.0)
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    store = Store.memory()
    prompts = [make_prompt(text, "other", "test") for text in PROMPTS]
    seen: list[int] = []
    run_id, prog = run_batch(
        store, pair, {"base": base}, prompts, GenParams(seed=3, max_tokens=6), on_progress=lambda p: seen.append(p.done)
    )
    assert prog.done == len(PROMPTS) and len(store.rollouts(run_id)) == len(PROMPTS)
    assert len(seen) >= 3 and seen[0] < len(PROMPTS)  # stored in several landings within the one window
    assert seen == sorted(seen) and seen[-1] == len(PROMPTS)
