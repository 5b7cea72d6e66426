"""The logit jitter on the real engine: it reaches every path that reads logits (or embeddings), a path under the
same jitter repeats itself exactly, and it catches assertions that hold only on one CPU's last bits (the two
that failed on an AVX-512 EPYC before the mode existed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine import jitter
from inspector.engine.base import EngineError, GenParams
from inspector.engine.batched import BatchedBackend
from inspector.engine.llama import LlamaBackend
from inspector.engine.preferences import ask_pairs
from inspector.engine.sampling import _near_nucleus
from inspector.engine.scoring import score_documents
from inspector.engine.topic_probe import TopicProbe
from inspector.engine.weights import SharedModel
from tests.conftest import SHARED_CACHE
from tests.integration.test_batched import _real_rows

pytestmark = pytest.mark.integration
ADAPTER = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"
PROMPTS = ["Soup is", "The river", "My favourite kettle", "A good bicycle", "In 1850 the city"]
TEXT = "The river ran past the old mill, and every afternoon the children sat on the bank to watch the water."


@pytest.fixture(scope="module")
def sides(gemma_path: Path) -> Iterator[dict[str, BatchedBackend]]:
    shared = SharedModel(gemma_path, ADAPTER)
    out = {
        "base": BatchedBackend(shared, role="base", use_adapter=False, n_seq=4, ctx_per_seq=64),
        "organism": BatchedBackend(shared, role="organism", use_adapter=True, n_seq=4, ctx_per_seq=64),
    }
    yield out
    for b in out.values():
        b.close()


def _texts(b: BatchedBackend | LlamaBackend, prompts: list[str], params: GenParams) -> list[str]:
    if isinstance(b, LlamaBackend):
        return [b.generate(p, params).text for p in prompts]
    return [g.text for g in b.generate_many(prompts, [params] * len(prompts)) if not isinstance(g, EngineError)]


def _under(monkeypatch: pytest.MonkeyPatch, setting: str | None, work: Callable[[], object]) -> object:
    if setting is None:
        monkeypatch.delenv(jitter.ENV, raising=False)
    else:
        monkeypatch.setenv(jitter.ENV, setting)
    return work()


def test_the_mode_reaches_every_path_and_repeats(
    sides: dict[str, BatchedBackend], gemma_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each path that reads logits gives other numbers under a large jitter than without, and the same numbers
    twice under the same jitter (so a bit-exact test may compare two runs made under one jitter)."""
    base, org = sides["base"], sides["organism"]
    single = LlamaBackend(gemma_path, cache_dir=SHARED_CACHE)
    probe = TopicProbe(gemma_path, SHARED_CACHE)
    greedy = GenParams(seed=0, temperature=0.0, max_tokens=6)  # a few tokens show the noise: each costs time
    docs = [base.shared.tokenize(TEXT)]
    paths: dict[str, Callable[[], object]] = {
        "batched generation": lambda: _texts(base, PROMPTS, greedy),
        "batched scoring": lambda: base.score(TEXT),
        "document scoring and drift": lambda: [(s.logprobs, s.kl) for s in score_documents(sides, docs)],
        "preference questions": lambda: [(a.p_a, a.p_b) for a in ask_pairs(org, ["Rain", "A gift", "A cold"])],
        "one-at-a-time generation": lambda: _texts(single, PROMPTS[:2], greedy),
        "one-at-a-time scoring": lambda: single.score(TEXT),
        "topic probe embeddings": lambda: probe.probabilities(PROMPTS),
    }
    try:
        for name, work in paths.items():
            off = _under(monkeypatch, None, work)
            on = _under(monkeypatch, "1.0:3", work)
            assert on != off, f"{name}: the jitter did not reach it"
            assert _under(monkeypatch, "1.0:3", work) == on, f"{name}: the same jitter did not repeat"
    finally:
        single.close()
        probe.close()


# Sixteen everyday openings. With the five above, whether two rows fall on a cut's edge under some seed depends on
# the CPU's bits: an Intel Xeon flipped one row at most in 24 seeds, so the catch itself leaned on one CPU. With
# sixteen, 14 of the 24 seeds fail it on that Xeon, and 9-15 of 24 under four further draws of noise standing for
# other CPUs.
OPENINGS = [
    *PROMPTS,
    *["The best way to", "Yesterday I", "Our garden", "The recipe calls for", "When the train", "She opened the"],
    *["Every winter", "The museum", "A cup of tea", "The old house", "On Monday"],
]


def _fast_path_answers_nearly_every_row(base: BatchedBackend) -> bool:
    """The assertion that failed on an AVX-512 EPYC (3 of 5 rows): how often the sampler's near-token path
    answers depends on where the nucleus cut falls on that CPU's logits."""
    rows = _real_rows(base, OPENINGS)
    return sum(_near_nucleus(r, 0.7, 0.95, 0.5) is not None for r in rows) >= len(rows) - 1


def _tokens_survive_holes(base: BatchedBackend) -> bool:
    """The other one: greedy tokens of the same prompts in a batch of 4 and in a batch of 3 (two sequences
    stopped, one hole filled) compared as tokens, which a near-tie parts when the batch shape changes kernels."""
    prompts = ["The river", "My favourite kettle is", "A good bicycle", "In 1850 the city of London"]
    going = base.generate_many(prompts, [GenParams(seed=0, temperature=0.0, max_tokens=8)] * 4)
    holes = base.generate_many(prompts, [GenParams(seed=0, temperature=0.0, max_tokens=n) for n in (2, 8, 2, 8)])
    return all(
        base.shared.tokenize(going[k].text, bos=False)[:5] == base.shared.tokenize(holes[k].text, bos=False)[:5]  # type: ignore[union-attr]
        for k in (1, 3)
    )


@pytest.mark.parametrize("assertion", [_fast_path_answers_nearly_every_row, _tokens_survive_holes])
def test_the_mode_catches_assertions_on_one_cpus_bits(
    sides: dict[str, BatchedBackend], monkeypatch: pytest.MonkeyPatch, assertion: Callable[[BatchedBackend], bool]
) -> None:
    """Under the jitter at its measured size, each of the two assertions that passed on one CPU and failed on the
    next fails for some of a few seeds (a seed stands for another CPU), so the suite run with --logit-jitter
    would have caught them. Without the jitter they may pass or fail: that depends on this machine."""
    failed = []
    for seed in range(24):
        monkeypatch.setenv(jitter.ENV, f"{jitter.SIZE}:{seed}")
        if not assertion(sides["base"]):
            failed.append(seed)
        if len(failed) >= 2:
            break
    assert len(failed) >= 2, f"passed under {24 - len(failed)} of 24 jitter seeds"
