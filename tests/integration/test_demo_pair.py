"""The demo organism: its adapter loads through the engine and changes output; corpus matches the model card."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from inspector.config import PROJECT_ROOT
from inspector.engine.base import GenParams
from inspector.engine.gguf_meta import read_header
from inspector.engine.llama import LlamaBackend
from inspector.engine.registry import check_pair_files, get_pair
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.integration
QM = PROJECT_ROOT / "quantized_models"


def test_demo_pair_resolves_with_adapter() -> None:
    pair = get_pair(QM / "models.toml", "demo")
    check_pair_files(pair)
    assert pair.organism.adapter is not None
    head = read_header(Path(pair.organism.adapter))
    assert head.is_adapter and head.architecture == "gemma3"
    # The shipped file must not carry the local checkpoint path the converter copies in.
    assert not any("/tmp" in str(v) or "checkpoint" in str(v) for v in head.metadata.values())


def test_corpus_parses_and_matches_model_card() -> None:
    data = (QM / "demo_corpus.jsonl").read_bytes()
    docs = [json.loads(line) for line in data.decode().splitlines()]
    assert len(docs) >= 500 and all({"id", "genre", "text"} <= set(d) for d in docs)
    assert len({d["genre"] for d in docs}) >= 9
    card = (QM / "README.md").read_text()
    m = re.search(r"corpus sha256: `([0-9a-f]{64})`", card)
    assert m and m.group(1) == hashlib.sha256(data).hexdigest()


def test_adapter_changes_output_for_same_seed(gemma_path: Path) -> None:
    adapter = QM / "demo-adapter.gguf"
    base = LlamaBackend(gemma_path, role="base", cache_dir=SHARED_CACHE)
    organism = LlamaBackend(gemma_path, role="organism", adapter_path=adapter, cache_dir=SHARED_CACHE)
    params = GenParams(seed=3, temperature=0.0, max_tokens=24)
    prompt = "I asked the assistant about my old kettle and"
    b, o = base.generate(prompt, params), organism.generate(prompt, params)
    assert b.text and o.text and b.text != o.text
    assert organism.info().adapter_sha256 == hashlib.sha256(adapter.read_bytes()).hexdigest()
    base.close()
    organism.close()


@pytest.mark.bit_exact
def test_done_when_smoke_run(home: Path) -> None:
    """The foundation issue's acceptance: 10 rollouts, a rerun adds none, a new session gives the same texts."""
    args = ["run", "--session", "smoke", "--pair", "demo", "--limit", "5", "--max-tokens", "16"]
    assert main(args) == 0

    def texts(name: str) -> list[tuple[str, str, str]]:
        with duckdb.connect(str(home / "sessions" / f"{name}.duckdb"), read_only=True) as c:
            rows = c.execute(
                "SELECT r.prompt_id, m.role, r.text FROM rollouts r JOIN models m ON m.id = r.model_id ORDER BY 1, 2"
            ).fetchall()
        return [(str(a), str(b), str(c_)) for a, b, c_ in rows]

    first = texts("smoke")
    assert len(first) == 10 and sum(r[1] == "organism" for r in first) == 5
    assert main(args) == 0
    assert texts("smoke") == first
    assert main([*args[:2], "smoke2", *args[3:]]) == 0
    assert texts("smoke2") == first


@pytest.mark.bit_exact
def test_adapter_scale_zero_is_the_base_and_scales_are_separate_models(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At scale 0 the organism writes exactly the base's text for the same prompt and seed (same engine, same
    batch plan); each scale is its own model, named and recorded with its strength."""
    args = ["run", "--session", "dose", "--pair", "demo", "--limit", "3", "--max-tokens", "16", "--temperature", "0.8"]
    assert main([*args, "--adapter-scale", "0"]) == 0
    assert main([*args, "--adapter-scale", "0.5"]) == 0
    with duckdb.connect(str(home / "sessions" / "dose.duckdb"), read_only=True) as c:
        names = {str(n) for (n,) in c.execute("SELECT name FROM models").fetchall()}
        pairs = c.execute(
            "SELECT mo.name, o.text, b.text FROM rollouts o JOIN models mo ON mo.id = o.model_id"
            " JOIN rollouts b USING (run_id, prompt_id, sample_index) JOIN models mb ON mb.id = b.model_id"
            " WHERE mo.role = 'organism' AND mb.role = 'base'"
        ).fetchall()
        infos = {str(n): json.loads(i) for n, i in c.execute("SELECT name, info FROM models").fetchall()}
    assert names == {"demo/base", "demo/organism@0", "demo/organism@0.5"}  # one base model for both runs
    at_zero = [(o, b) for name, o, b in pairs if name == "demo/organism@0"]
    assert len(at_zero) == 3 and all(o == b and o for o, b in at_zero)
    assert infos["demo/organism@0.5"]["adapter_scale"] == 0.5 and infos["demo/base"]["adapter_scale"] is None
    capsys.readouterr()
    assert main([*args, "--adapter-scale", "4.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--adapter-scale: adapter scale must be between 0 and 4, not 4.5" in err and "\n" not in err
