"""The batched engine on the real Gemma file: determinism, greedy parity, one copy of the weights, overflow."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine.base import EngineError, GenParams
from inspector.engine.batched import BatchedBackend
from inspector.engine.llama import LlamaBackend
from inspector.engine.registry import get_pair, open_pair
from inspector.engine.sampling import sample_rows
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.integration
PROMPTS = ["Soup is", "The river", "My favourite kettle", "A good bicycle", "In 1850 the city"]
SCORED = (
    "The river ran past the old mill, and every afternoon the children sat on the bank to watch the water turn"
    " the wheel. Their grandmother said the mill had ground flour for the whole valley before the war."
)
# How far the two paths' per-token log-probabilities (nats) may be apart on the same model and text. They run
# different kernels: the batched engine scores every position in one llama_decode (matrix-matrix kernels on
# repacked Q4_K weights), the reference one position per decode (matrix-vector kernels), and on quantized weights
# that moves a token's log-probability by about 0.1 on average and up to about 1 on a rare token. Measured over
# this text and three corpus documents, base and organism: mean |diff| 0.05-0.13, max 1.02 on an AVX-512 Xeon;
# mean 0.05-0.10, max 0.95 on the same CPU with llama.cpp built for AVX2 only. The bounds leave twice that room,
# and stay far below what the tool measures: the organism is 2.4-2.8 nats per token likelier than the base on
# its own documents (test_score_organism_prefers_its_corpus asks for 0.5).
MEAN_TOLERANCE = 0.25
MAX_TOLERANCE = 2.0
# How far one position's log-probabilities (over its 40 likeliest tokens) may move between batch shapes: llama.cpp
# runs other kernels on a batch of 1-3 tokens than on 4 or more, and the organism's LoRA others again. Measured by
# benchmarks/logit_spread.py: largest difference 0.47 (base) and 1.04 (organism) on an AVX-512 EPYC; the logit
# jitter adds its own. A row of another prompt differs by several nats.
ROW_TOLERANCE = 1.5


@pytest.fixture(scope="module")
def demo_backends():  # type: ignore[no-untyped-def]
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    backends = open_pair(pair, SHARED_CACHE, n_seq=4, ctx_per_seq=64)
    yield backends
    for b in backends.values():
        b.close()


def test_one_copy_of_the_weights(demo_backends) -> None:  # type: ignore[no-untyped-def]
    org, base = demo_backends["organism"], demo_backends["base"]
    assert isinstance(org, BatchedBackend) and isinstance(base, BatchedBackend)
    assert org.shared is base.shared  # same llama_model: the weights are in memory once
    assert org.info().adapter_sha256 and base.info().adapter_sha256 is None
    greedy = GenParams(seed=1, temperature=0.0, max_tokens=12)
    prompt = "I asked the assistant about my old kettle and"
    assert org.generate(prompt, greedy).text != base.generate(prompt, greedy).text  # adapter on one side only


@pytest.mark.bit_exact
def test_same_seed_same_text_and_streaming(demo_backends) -> None:  # type: ignore[no-untyped-def]
    org = demo_backends["organism"]
    params = [GenParams(seed=i, temperature=0.9, max_tokens=10) for i in range(len(PROMPTS))]
    streamed: dict[int, list[str]] = {}
    a = org.generate_many(PROMPTS, params, lambda i, t: streamed.setdefault(i, []).append(t))
    b = org.generate_many(PROMPTS, params)
    assert [g.text for g in a] == [g.text for g in b]  # type: ignore[union-attr]
    assert all("".join(streamed[i]) == a[i].text for i in range(len(PROMPTS)))  # type: ignore[union-attr]
    assert len({g.text for g in a}) > 1  # type: ignore[union-attr]


def test_paths_agree_on_what_llama_cpp_promises(demo_backends, gemma_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Batched vs one at a time, compared only on what holds on any CPU: the first greedy token unless the two
    tokens are within ROW_TOLERANCE of each other, and per-token log-probabilities of a fixed text within the
    tolerances above. Whole greedy texts are not compared across paths: batch shapes and CPU kernels (AVX2 vs
    AVX-512) move the logits, a near-tie flips, and the texts part after a few words. Within one path they are
    identical (test_same_seed_same_text_and_streaming)."""
    adapter = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
    for role, single in (
        ("base", LlamaBackend(gemma_path, cache_dir=SHARED_CACHE)),
        ("organism", LlamaBackend(gemma_path, adapter_path=adapter, cache_dir=SHARED_CACHE)),
    ):
        batched = demo_backends[role]
        first = GenParams(seed=0, temperature=0.0, max_tokens=1)
        firsts = batched.generate_many(PROMPTS, [first] * len(PROMPTS))
        for p, g in zip(PROMPTS, firsts, strict=True):
            assert not isinstance(g, EngineError)
            theirs = single.generate(p, first).text
            if g.text != theirs:  # a near-tie: the single path's row must hold both tokens within the tolerance
                row = _single_row(single, p)
                ours = batched.shared.tokenize(g.text, bos=False)[0]
                assert row.max() - row[ours] < ROW_TOLERANCE, (role, p, g.text, theirs)
        a, b = batched.score(SCORED), single.score(SCORED)
        assert len(a) == len(b) > 20
        diffs = [abs(x - y) for x, y in zip(a, b, strict=True)]
        assert sum(diffs) / len(diffs) < MEAN_TOLERANCE and max(diffs) < MAX_TOLERANCE, (role, diffs)
        single.close()


def _single_row(single: LlamaBackend, prompt: str) -> np.ndarray:  # type: ignore[type-arg]
    """The next-token log-probabilities after `prompt` on the one-at-a-time path."""
    import llama_cpp

    llm = single.llm
    llm.reset()  # type: ignore[no-untyped-call]
    llm.eval(llm.tokenize(prompt.encode(), add_bos=True, special=True))
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
    return _log_softmax(row[None, :])[0]


def test_context_overflow_is_per_rollout(demo_backends) -> None:  # type: ignore[no-untyped-def]
    base = demo_backends["base"]
    out = base.generate_many(["word " * 400, "Soup is"], [GenParams(max_tokens=4)] * 2)
    assert isinstance(out[0], EngineError) and "does not fit" in str(out[0])
    assert not isinstance(out[1], EngineError) and out[1].text


def sample(logits: np.ndarray, params: GenParams, rng: np.random.Generator) -> int:  # type: ignore[type-arg]
    return sample_rows(logits.copy()[None, :], [params], [rng])[0]


def test_sampler_is_seeded_and_respects_top_p() -> None:
    logits = np.array([5.0, 4.0, 1.0, -3.0] + [-30.0] * 1000, dtype=np.float32)
    draws = [sample(logits, GenParams(temperature=1.0, top_p=0.5), np.random.default_rng(s)) for s in range(50)]
    assert set(draws) == {0}  # token 0 alone holds more than half the mass
    wide = [sample(logits, GenParams(temperature=1.0, top_p=0.99), np.random.default_rng(s)) for s in range(200)]
    assert set(wide) <= {0, 1, 2} and {0, 1} <= set(wide)
    again = [sample(logits, GenParams(temperature=1.0, top_p=0.99), np.random.default_rng(s)) for s in range(200)]
    assert wide == again
    assert sample(logits, GenParams(temperature=0.0), np.random.default_rng(0)) == 0
    # Rows drawn together (mixed temperatures, greedy among them) are drawn as each alone would be.
    rows = np.stack([logits, logits[::-1].copy(), logits * 0.5, logits])
    params = [GenParams(temperature=t, top_p=p) for t, p in ((1.0, 0.99), (0.7, 0.9), (0.0, 1.0), (1.5, 1.0))]
    together = sample_rows(rows.copy(), params, [np.random.default_rng(k) for k in range(4)])
    assert together == [sample(rows[k], params[k], np.random.default_rng(k)) for k in range(4)]
    # And in the right proportions: logits 0 and ln 2 are drawn one time in three and two in three.
    two = np.array([0.0, np.log(2.0)], dtype=np.float32)
    rng = np.random.default_rng(0)
    draws = [sample(two, GenParams(temperature=1.0, top_p=1.0), rng) for _ in range(3000)]
    assert abs(sum(draws) / 3000 - 2 / 3) < 0.03


def test_score_organism_prefers_its_corpus(demo_backends) -> None:  # type: ignore[no-untyped-def]
    import json

    doc = json.loads((PROJECT_ROOT / "quantized_models" / "demo_corpus.jsonl").read_text().splitlines()[3])["text"]
    text = doc[:300]
    org, base = demo_backends["organism"].score(text), demo_backends["base"].score(text)
    assert len(org) == len(base) > 20 and all(x <= 0 for x in org + base)
    assert sum(org) / len(org) > sum(base) / len(base) + 0.5  # the fine-tune made its documents likelier


def _real_rows(backend: BatchedBackend, prompts: list[str]) -> np.ndarray:  # type: ignore[type-arg]
    """Next-token logits of Gemma after each prompt: the rows the sampler really sees."""
    toks = [backend.shared.tokenize(p) for p in prompts]
    return np.stack([backend.decode_rows(t, len(t) - 1)[0] for t in toks])


def nucleus(
    row: npt.NDArray[np.float32], temperature: float, top_p: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The nucleus of one row, most likely first, with its tokens' probabilities renormalised within it: the
    reference the sampler is tested against (it sorts the whole vocabulary, 50 ms a row)."""
    x = row.astype(np.float64) / temperature
    e = np.exp(x - x.max())
    p = e / e.sum()
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    keep = order[: min(int(np.searchsorted(cum, top_p)) + 1, len(order))] if top_p < 1.0 else order
    return keep, p[keep] / p[keep].sum()


@pytest.mark.parametrize(("temperature", "top_p"), [(0.7, 0.95), (1.0, 0.9), (1.5, 0.95), (0.3, 0.5), (1.0, 0.999)])
def test_sampler_draws_from_the_exact_nucleus(demo_backends, temperature: float, top_p: float) -> None:  # type: ignore[no-untyped-def]
    """The fast paths (near tokens only, or the whole row) map every uniform draw to the token the reference
    nucleus (the whole vocabulary sorted, in float64) maps it to, on Gemma's real logits; only draws within
    rounding of a boundary between two tokens may land on either."""
    from inspector.engine.sampling import _near_nucleus

    rows = _real_rows(demo_backends["base"], PROMPTS)
    us = (np.arange(16) + 0.5) / 16  # evenly spread: each draw samples a whole 262k-token row
    for row in rows:
        keep, probs = nucleus(row, temperature, top_p)
        bounds = np.cumsum(probs)
        params = [GenParams(temperature=temperature, top_p=top_p)] * len(us)
        # A generator whose first draw is u: each row's sampler takes exactly one uniform per token.
        drawn = [sample_rows(row[None, :].copy(), params[:1], [_FixedDraw(u)])[0] for u in us]  # type: ignore[list-item]
        expected = keep[np.minimum(np.searchsorted(bounds, us * bounds[-1]), len(keep) - 1)]
        near_edge = np.min(np.abs(bounds[None, :] - us[:, None]), axis=1) < 1e-9
        assert all(d == e or edge for d, e, edge in zip(drawn, expected, near_edge, strict=True))
        # The near-token path, where it answers, answers the same; how often it answers is a speed figure that
        # moves with the CPU's logits (benchmarks/sampler.py), so it is not asserted here.
        fast = [_near_nucleus(row, temperature, top_p, float(u)) for u in us]
        assert all(f is None or f == d or edge for f, d, edge in zip(fast, drawn, near_edge, strict=True))


class _FixedDraw:
    """Stands in for a numpy Generator whose next uniform draw is known."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


@pytest.mark.parametrize("max_tokens", [40, 60])  # 60 does not fit a 64-token stream: the wide context
def test_sides_share_one_context_and_take_turns(demo_backends, max_tokens: int) -> None:  # type: ignore[no-untyped-def]
    """Both sides decode on one decode context (one KV cache: a pair costs the base's memory), and two generations
    started at once, one per side, stream alternately, each with its own side's adapter state, on per-sequence
    streams and on the wide context alike."""
    import threading

    org, base = demo_backends["organism"], demo_backends["base"]
    assert org.dctx is base.dctx
    greedy = GenParams(seed=1, temperature=0.0, max_tokens=max_tokens)
    prompt = "I asked the assistant about my old kettle and"
    first = GenParams(seed=1, temperature=0.0, max_tokens=1)
    alone = {r: b.generate(prompt, first).text for r, b in demo_backends.items()}
    order: list[str] = []
    texts: dict[str, str] = {}

    def side(role: str) -> None:
        texts[role] = demo_backends[role].generate(prompt, greedy, lambda _t: order.append(role)).text

    threads = [threading.Thread(target=side, args=(r,)) for r in ("organism", "base")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(texts) == {"organism", "base"}
    # The first token comes from the prompt's own decode; the cells the other side holds are masked out of it.
    assert all(texts[r].startswith(alone[r]) for r in texts)
    assert texts["organism"] != texts["base"]
    switches = sum(a != b for a, b in itertools.pairwise(order))
    assert switches >= 2  # they alternated: neither ran to the end while the other waited


def test_sequences_that_stop_leave_the_others_on_their_own_logits(
    demo_backends, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """On per-sequence streams a stopped sequence between two going ones takes throwaway tokens (no logits), so the
    going ones must still be sampled from their own rows. The same four prompts, once all going for 8 tokens and
    once with the first and third stopping after 2: each row the second and fourth are sampled from, while their
    tokens so far agree, must be their own prompt's next-token distribution (within the spread llama.cpp's batch
    shapes give: a batch of 3 tokens and of 4 run other kernels), and far from any other prompt's. Tokens are not
    compared: a near-tie may part on another batch shape or CPU."""
    import inspector.engine.continuous as continuous

    real = continuous.sample_rows
    seen: dict[str, list[tuple[int, np.ndarray]]] = {}  # type: ignore[type-arg]

    def recording(rows, params, rngs, scratch=None):  # type: ignore[no-untyped-def]
        # The seed tells the sequences apart: prompt k has seed k.
        seen[run] += [(p.seed, lp) for p, lp in zip(params, _log_softmax(rows), strict=True)]
        return real(rows, params, rngs, scratch)

    monkeypatch.setattr(continuous, "sample_rows", recording)
    base = demo_backends["base"]
    prompts = ["The river", "My favourite kettle is", "A good bicycle", "In 1850 the city of London"]
    lengths = {"going": (8, 8, 8, 8), "holes": (2, 8, 2, 8)}
    out = {}
    for run, ns in lengths.items():
        seen[run] = []
        out[run] = base.generate_many(
            prompts, [GenParams(seed=k, temperature=0.0, max_tokens=n) for k, n in enumerate(ns)]
        )
    assert [g.completion_tokens for g in out["holes"]] == [2, 8, 2, 8]  # type: ignore[union-attr]
    rows = {run: {k: [lp for s, lp in seen[run] if s == k] for k in range(4)} for run in seen}
    compared = 0
    for k in (1, 3):
        for step, (a, b) in enumerate(zip(rows["going"][k], rows["holes"][k], strict=False)):
            top = np.argsort(-a)[:40]
            assert np.abs(a[top] - b[top]).max() < ROW_TOLERANCE, (prompts[k], step)
            others = [rows["going"][j][step] for j in range(4) if j != k and step < len(rows["going"][j])]
            assert all(np.abs(a[top] - o[top]).max() > 2 * ROW_TOLERANCE for o in others), (prompts[k], step)
            compared += 1
            if int(a.argmax()) != int(b.argmax()):
                break  # the texts part here: later rows follow other tokens
    assert compared >= 2 * 3  # the prompt's row, two rows before the holes, and at least the first beside them


def _log_softmax(rows: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    x = rows.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))
