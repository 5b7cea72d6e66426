"""The real llama.cpp engine on the real Gemma 3 270M file: provenance, determinism, streaming, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspector.engine.base import EngineError, GenParams
from inspector.engine.llama import LlamaBackend
from tests.conftest import SHARED_CACHE, write_fake_gguf

pytestmark = pytest.mark.integration
PROMPT = "The best way to keep bread fresh is"


@pytest.fixture(scope="module")
def base(gemma_path: Path) -> LlamaBackend:
    return LlamaBackend(gemma_path, role="base", cache_dir=SHARED_CACHE)


def test_provenance(base: LlamaBackend, gemma_path: Path) -> None:
    info = base.info()
    assert info.sha256 == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    assert info.architecture == "gemma3" and info.quantization == "Q4_K_M"
    assert info.engine_version.startswith("llama-cpp-python 0.3.36")
    assert info.path == str(gemma_path.resolve())


@pytest.mark.bit_exact
def test_same_seed_same_text_and_streaming(base: LlamaBackend) -> None:
    pieces: list[str] = []
    a = base.generate(PROMPT, GenParams(seed=11, temperature=0.8, max_tokens=12), on_token=pieces.append)
    b = base.generate(PROMPT, GenParams(seed=11, temperature=0.8, max_tokens=12))
    c = base.generate(PROMPT, GenParams(seed=12, temperature=0.8, max_tokens=12))
    assert a.text and a.text == b.text
    assert "".join(pieces) == a.text  # streamed tokens add up to the stored text
    assert a.completion_tokens == len(pieces) and a.finish_reason in {"length", "stop"}
    assert c.text != a.text


def test_cancel_stops_generation(base: LlamaBackend) -> None:
    seen: list[str] = []
    g = base.generate(
        PROMPT, GenParams(seed=1, max_tokens=64), on_token=seen.append, should_stop=lambda: len(seen) >= 3
    )
    assert g.finish_reason == "cancelled" and g.completion_tokens == 3


def test_context_overflow_is_an_engine_error(gemma_path: Path) -> None:
    small = LlamaBackend(gemma_path, n_ctx=64, cache_dir=SHARED_CACHE)
    with pytest.raises(EngineError, match="does not fit the context"):
        small.generate("word " * 200, GenParams(max_tokens=4))
    small.close()


def test_chat_format_needs_a_template(gemma_path: Path) -> None:
    # The pretrained Gemma GGUF carries no chat template: saying so beats a silent raw fallback.
    with pytest.raises(EngineError, match="no chat template"):
        LlamaBackend(gemma_path, prompt_format="chat", cache_dir=SHARED_CACHE)


def test_truncated_gguf(tmp_path: Path, gemma_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with gemma_path.open("rb") as src, cut.open("wb") as dst:
        dst.write(src.read(100_000_000))  # header intact, tensor data cut short
    with pytest.raises(EngineError) as e:
        LlamaBackend(cut, cache_dir=tmp_path)
    assert str(cut) in str(e.value) and "\n" not in str(e.value)
    short = tmp_path / "short.gguf"
    with gemma_path.open("rb") as src, short.open("wb") as dst:
        dst.write(src.read(5000))  # header itself cut short
    with pytest.raises(EngineError, match="truncated"):
        LlamaBackend(short, cache_dir=tmp_path)


def test_adapter_for_another_architecture(tmp_path: Path, gemma_path: Path) -> None:
    other = write_fake_gguf(
        tmp_path / "llama-adapter.gguf", {"general.architecture": "llama", "general.type": "adapter"}
    )
    with pytest.raises(EngineError, match=r"architecture 'llama'.*'gemma3'"):
        LlamaBackend(gemma_path, adapter_path=other, cache_dir=tmp_path)
    with pytest.raises(EngineError, match="not a LoRA adapter"):
        LlamaBackend(gemma_path, adapter_path=gemma_path, cache_dir=tmp_path)


def test_sha256_cache_reused(tmp_path: Path) -> None:
    from inspector.engine.provenance import sha256_file

    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    first = sha256_file(f, tmp_path)
    shutil.copy(f, tmp_path / "y.bin")
    assert (tmp_path / "sha256.json").exists()
    assert sha256_file(f, tmp_path) == first
    f.write_bytes(b"abcd")  # a changed file (size) is hashed again
    assert sha256_file(f, tmp_path) != first
