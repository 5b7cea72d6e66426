"""A LoRA adapter's rank padded with zeros: the same product B·A in every layer, the same alpha / rank scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.config import PROJECT_ROOT
from inspector.engine.gguf_meta import read_header
from inspector.engine.lora_rank import _DTYPES, _parse, padded_adapter

ADAPTERS = PROJECT_ROOT / "quantized_models"


def _products(path: Path) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    with path.open("rb") as f:
        parsed = _parse(f, path)
        assert parsed is not None
        _, _, tensors, data_start, _ = parsed
        arrays = {}
        for t in tensors:
            dtype = _DTYPES[t.kind]
            f.seek(data_start + t.offset)
            count = int(np.prod(t.dims))
            arrays[t.name] = np.frombuffer(f.read(count * dtype.itemsize), dtype).reshape(t.dims[::-1])
    names = [n[: -len("lora_a")] for n in arrays if n.endswith("lora_a")]
    return {n: arrays[n + "lora_b"].astype(np.float64) @ arrays[n + "lora_a"].astype(np.float64) for n in names}


def test_a_rank_8_adapter_is_padded_to_16_with_the_same_products_and_scale(tmp_path: Path) -> None:
    source = ADAPTERS / "demo-adapter.gguf"
    out = padded_adapter(source, "ab" * 32, tmp_path)
    assert out != source and out.parent == tmp_path / "adapters"
    before, after = _products(source), _products(out)
    assert before.keys() == after.keys() and len(before) == 126
    assert all(np.array_equal(before[n], after[n]) for n in before)
    old, new = read_header(source).metadata, read_header(out).metadata
    # llama.cpp scales by alpha / rank, with the rank read from lora_b: both doubled, the same float.
    assert new["adapter.lora.alpha"] == 2 * old["adapter.lora.alpha"]
    assert {k: v for k, v in new.items() if k != "adapter.lora.alpha"} == {
        k: v for k, v in old.items() if k != "adapter.lora.alpha"
    }
    with out.open("rb") as f:
        parsed = _parse(f, out)
    assert parsed is not None and {t.dims[0] for t in parsed[2] if t.name.endswith("lora_b")} == {16}
    stamp = out.stat().st_mtime_ns
    assert padded_adapter(source, "ab" * 32, tmp_path) == out and out.stat().st_mtime_ns == stamp  # written once


def test_an_adapter_whose_rank_is_already_a_multiple_of_16_is_loaded_as_it_is(tmp_path: Path) -> None:
    source = ADAPTERS / "chat-demo-adapter.gguf"  # rank 16
    assert padded_adapter(source, "cd" * 32, tmp_path) == source
    assert not (tmp_path / "adapters").exists()


def test_without_a_cache_folder_nothing_is_written(tmp_path: Path) -> None:
    source = ADAPTERS / "demo-adapter.gguf"
    assert padded_adapter(source, "ab" * 32, None) == source
