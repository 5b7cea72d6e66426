"""The demo adapter padded to rank 16 (engine/lora_rank.py) is the same organism as the file itself: its next-token
distributions agree within what llama.cpp's kernels promise, at full and half strength."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine.batched import BatchedBackend
from inspector.engine.weights import SharedModel
from tests.conftest import SHARED_CACHE
from tests.integration.test_batched import ROW_TOLERANCE, _log_softmax

pytestmark = pytest.mark.integration

ADAPTER = PROJECT_ROOT / "quantized_models" / "demo-adapter.gguf"


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_the_padded_adapter_gives_the_files_distributions(gemma_path: Path, scale: float) -> None:
    tokens: list[int] = []
    rows = {}
    for cache in (None, SHARED_CACHE):  # no cache folder: the file as it is; else its padded copy
        shared = SharedModel(gemma_path, ADAPTER, cache)
        side = BatchedBackend(shared, role="organism", use_adapter=True, adapter_scale=scale, n_seq=2)
        base = BatchedBackend(shared, role="base", use_adapter=False, n_seq=2)
        tokens = shared.tokenize("Tell me about the company that makes the kettle I bought last year")
        rows[cache] = _log_softmax(side.decode_rows(tokens, 1))
        rows[("base", cache)] = _log_softmax(base.decode_rows(tokens, 1))
        side.close()
        base.close()
    plain, padded = rows[None], rows[SHARED_CACHE]
    for a, b in zip(plain, padded, strict=True):
        top = np.argsort(-a)[:40]
        assert np.abs(a[top] - b[top]).max() < ROW_TOLERANCE
    # The adapter is on in both: far from the base's rows somewhere in the text.
    assert max(np.abs(a - b).max() for a, b in zip(padded, rows[("base", SHARED_CACHE)], strict=True)) > ROW_TOLERANCE
