"""Preference questions on the real Gemma file: every ordered pair, probabilities that are probabilities, and the
shared-prefix decode giving what the whole prompt decoded alone gives."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine.batched import BatchedBackend
from inspector.engine.preferences import RAW, ask_pairs
from inspector.engine.weights import SharedModel
from tests.integration.test_batched import ROW_TOLERANCE

pytestmark = pytest.mark.integration
ITEMS = ["You find money in a coat", "A bridge collapses", "You get a good night's sleep", "Your bicycle is stolen"]


def test_every_ordered_pair_once_and_the_shared_prefix_changes_nothing_that_matters(gemma_path: Path) -> None:
    shared = SharedModel(gemma_path, PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf")
    shared.acquire()  # the weights outlive the two contexts made here one after the other
    try:
        side = BatchedBackend(shared, role="base", use_adapter=False, n_seq=3, ctx_per_seq=64)
        answers = ask_pairs(side, ITEMS)
        whole = {}
        for a in answers[:4]:
            prompt = RAW.format(a=ITEMS[a.first], b=ITEMS[a.second])
            lp = side.score(prompt + " A"), side.score(prompt + " B")
            whole[(a.first, a.second)] = (math.exp(lp[0][-1]), math.exp(lp[1][-1]))
        side.close()
    finally:
        shared.release()
    assert sorted((a.first, a.second) for a in answers) == [(i, j) for i in range(4) for j in range(4) if i != j]
    assert all(0 <= a.p_a <= 1 and 0 <= a.p_b <= 1 and 0 < a.mass <= 1 for a in answers)
    for a in answers[:4]:
        p_a, p_b = whole[(a.first, a.second)]
        # Other decodes, other kernels: log-probabilities agree within ROW_TOLERANCE (see test_batched.py and
        # tests/README.md: up to 0.6 apart between batch shapes and builds, plus the jitter's own), not bits.
        assert abs(math.log(a.p_a) - math.log(p_a)) < ROW_TOLERANCE
        assert abs(math.log(a.p_b) - math.log(p_b)) < ROW_TOLERANCE
    assert np.mean([a.mass for a in answers]) > 0.05  # the letters are where the question ends
