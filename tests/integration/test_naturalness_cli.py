"""`inspector naturalness` on the demo pair with small inputs: the panel's keys in `report --json`, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from inspector.formats.panel_files import load_documents, load_items

pytestmark = pytest.mark.integration


def test_panel_on_the_demo_pair_lands_in_the_report(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.jsonl"
    text.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in load_documents()[:4]))
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"text": i.text}) + "\n" for i in load_items()[:5]))
    args = ["naturalness", "--session", "nat", "--text", str(text), "--items", str(items), "--tokens", "32"]
    assert main([*args, "--only", "perplexity,drift,decisiveness", "--json"]) == 0
    panel = json.loads(capsys.readouterr().out)["naturalness"]
    assert main(["report", "--session", "nat", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["naturalness"]
    assert report["models"] == panel["models"] and report["organism_vs_base"] == panel["organism_vs_base"]
    for name in ("demo/organism", "demo/base"):
        m = report["models"][name]
        for key in ("ppl_natural", "ppl_shuffled", "shuffle_ratio", "order_consistency", "answer_mass"):
            assert isinstance(m[key], float), key
        assert m["n_pairs"] == 10 and m["n_documents"] == 4
        # Either a number with its interval, or a plain statement that it means nothing here.
        assert (m["decisiveness"] is None and "not answering" in m["note"]) or (
            m["decisiveness_ci"][0] <= m["decisiveness"] <= m["decisiveness_ci"][1]
        )
        assert m["ppl_shuffled"] > m["ppl_natural"]  # the same words in a random order are less likely
    ob = report["organism_vs_base"]
    assert ob["ppl_ratio_ci"][0] <= ob["ppl_ratio"] <= ob["ppl_ratio_ci"][1] and ob["kl_mean"] > 0
    assert len(panel["top_drift"]) == 4 and all(len(d["tokens"]) > 0 for d in panel["top_drift"])
    with duckdb.connect(str(home / "sessions" / "nat.duckdb"), read_only=True) as c:
        (inputs,) = c.execute("SELECT inputs FROM metric_snapshots WHERE kind = 'naturalness'").fetchone() or ("{}",)
    inputs = json.loads(inputs)
    assert len(inputs["text_sha256"]) == 64 and len(inputs["items_sha256"]) == 64
    assert inputs["models"]["organism"]["adapter_sha256"] and inputs["models"]["base"]["engine_version"]
