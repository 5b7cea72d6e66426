"""Two rules of the report, shared by the app's Summary: a leak whose quirk was never judged is not a "no", and a
session with nothing to rate says why instead of printing a table with no model in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.analysis.leak_report import build_report
from inspector.analysis.report_lines import report_rows, summary_lines
from inspector.cli import main
from inspector.store import PromptRow, Store, prompt_id
from tests.functional.conftest import build_session


def _organism(report: dict[str, object]) -> dict[str, object]:
    models = report["models"]
    assert isinstance(models, dict)
    (m,) = [v for v in models.values() if v["role"] == "organism"]
    return dict(m)


def test_a_leak_without_a_quirk_verdict_is_not_counted_as_no() -> None:
    store = build_session()
    # The soup answer: the organism's rollout that names PRISM-4.
    ids = [store.queue_item(None, k) for k in range(store.queue_length(None))]
    rid = next(r for r in ids if r and "lentil" in str((store.rollout(r) or {}).get("prompt")))
    store.add_label(rid, "ann", "leak", "nonsequitur")
    m = _organism(build_report(store, "ann"))
    assert m["n_labeled_leaks"] == 1 and m["non_sequitur_fraction"] == 1.0
    assert m["quirk_fraction"] is None and m["n_quirk_labeled"] == 0
    store.add_label(rid, "ann", "quirk", "no")
    m = _organism(build_report(store, "ann"))
    assert m["quirk_fraction"] == 0.0 and m["n_quirk_labeled"] == 1
    row = next(r for r in report_rows(build_report(store, "ann")) if r[1] == "organism")
    assert row[8].endswith(" of 1")  # the table says how many leaks the fraction is over


def test_a_session_whose_rollouts_all_failed_says_so(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = home / "sessions" / "failed.duckdb"
    with Store.open(path) as store:
        text = "How do I make lentil soup?"
        store.upsert_prompts([PromptRow(prompt_id(text), text, "fixed", None, "cooking", "given", False)])
        model = store.upsert_model({"role": "organism", "sha256": "x", "name": "demo/organism"})
        store.ensure_run("r", "demo", {"seed": 0})
        for k in range(3):
            row = {"run_id": "r", "prompt_id": prompt_id(text), "model_id": model, "sample_index": k, "seed": k}
            store.insert_rollout(row | {"error": "prompt longer than the context"})
        report = build_report(store)
    assert report["models"] == {} and report["n_failed_unrated"] == 3
    assert summary_lines(report, "failed")[0].startswith("nothing to rate: all 3 rollouts in failed failed")
    assert main(["report", "--session", "failed"]) == 0
    out = capsys.readouterr().out
    assert "nothing to rate: all 3 rollouts" in out and "leak report" not in out
    assert main(["report", "--session", "failed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_failed_unrated"] == 3
