"""Detectors against labels: the corrected leak rate's coverage, how labels move it, precision and recall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.actions.label_queues import draw_sample
from inspector.analysis.validation import validate
from inspector.cli import main
from inspector.detect.detector_set import VERSIONS
from inspector.detect.spans import Span
from inspector.store import PromptRow, Store, prompt_id

FLAG = Span("term", 0, 7, "PRISM-4", 100.0, "PRISM-4")


def _population(path: Path | None, n_flagged: int, n_unflagged: int) -> tuple[Store, list[int], list[int]]:
    """One model's scanned rollouts: the first n_flagged carry a term span, the rest none."""
    store = Store.open(path) if path else Store.memory()
    prompts = [PromptRow(prompt_id(f"q{i}"), f"Question {i}?", "sim", None, "other", "given", False) for i in range(10)]
    store.upsert_prompts(prompts)
    mid = store.upsert_model({"role": "organism", "sha256": "x", "name": "sim/organism"})
    store.ensure_run("run-sim", "sim", {"seed": 0, "temperature": 0.7, "top_p": 0.95, "max_tokens": 8})
    ids = []
    for i in range(n_flagged + n_unflagged):
        rid = store.insert_rollout(
            {
                "run_id": "run-sim",
                "prompt_id": prompts[i % 10].id,
                "model_id": mid,
                "sample_index": i // 10,
                "seed": i,
                "text": "PRISM-4 says hi" if i < n_flagged else "Plain answer.",
            }
        )
        assert rid is not None
        ids.append(rid)
    store.replace_spans_many([(rid, [FLAG] if k < n_flagged else []) for k, rid in enumerate(ids)], VERSIONS)
    return store, ids[:n_flagged], ids[n_flagged:]


def _label_queue(store: Store, queue: str, truth: dict[int, bool], labeler: str = "sim") -> None:
    done = {r["rollout_id"] for r in store.current_label_table(labeler)}
    for (rid,) in store.cur.execute("SELECT rollout_id FROM samples WHERE queue = ?", [queue]).fetchall():
        if rid not in done:
            store.add_label(rid, labeler, "leak", "nonsequitur" if truth[rid] else "none")


def test_corrected_rate_interval_covers_the_truth() -> None:
    """100 flagged (80 truly leak), 900 unflagged (18 truly leak): over 200 labeled draws of 30 + 30 made by
    `inspector sample`'s own sampler, the 95% interval covers the true 9.8% at least 93% of the time."""
    store, flagged, clean = _population(None, 100, 900)
    truth = {rid: k < 80 for k, rid in enumerate(flagged)} | {rid: k < 18 for k, rid in enumerate(clean)}
    true_rate = sum(truth.values()) / len(truth)
    covered, estimates = 0, []
    for seed in range(200):
        q = draw_sample(store, 30, (), seed=seed, name=f"sim-{seed}", unflagged=30)
        _label_queue(store, q.name, truth)
        (v,) = validate(store, "sim", q.name).values()
        lo, hi = v["corrected_leak_rate_ci"]
        covered += lo <= true_rate <= hi
        estimates.append(v["corrected_leak_rate"])
    assert covered >= 186, f"coverage {covered}/200"
    # Unbiased: the mean estimate is near the truth (the detector alone would say 10.0%, precision alone 8.0%).
    assert sum(estimates) / len(estimates) == pytest.approx(true_rate, abs=0.01)


def _report(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["report", "--session", "v", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (model,) = report["models"].values()
    assert isinstance(model, dict)
    return model


def test_labels_move_the_corrected_rate(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _population(home / "sessions" / "v.duckdb", 10, 30)[0]
    q = draw_sample(store, 4, (), seed=1, unflagged=6)
    items = store.validation_items(q.name, "me")
    in_flagged = [int(i["rollout_id"]) for i in items if i["any"]]
    in_clean = [int(i["rollout_id"]) for i in items if not i["any"]]
    assert len(in_flagged) == 4 and len(in_clean) == 6
    for rid in in_flagged:
        store.add_label(rid, "me", "leak", "nonsequitur")
    store.close()
    # Only flagged items labeled: precision is known; the corrected rate is not (no unflagged item judged yet).
    m = _report(capsys)
    assert m["corrected_leak_rate"] is None and "no label yet" in str(m["corrected_needs"])
    with Store.open(home / "sessions" / "v.duckdb") as store:
        for rid in in_clean:
            store.add_label(rid, "me", "leak", "none")
    m = _report(capsys)
    base_rate = m["corrected_leak_rate"]
    assert base_rate == pytest.approx(10 / 40)
    term = m["detectors"]["term"]  # type: ignore[index]
    assert term["precision"] == 1.0 and term["recall"] == 1.0 and term["n_labeled"] == 4
    assert set(term) >= {"precision", "precision_ci", "recall", "recall_ci", "n_labeled"}
    with Store.open(home / "sessions" / "v.duckdb") as store:
        store.add_label(in_flagged[0], "me", "leak", "none")  # "3": the detector was wrong
    lowered = _report(capsys)
    assert lowered["corrected_leak_rate"] < base_rate  # type: ignore[operator]
    assert lowered["detectors"]["term"]["precision"] == pytest.approx(0.75)  # type: ignore[index]
    with Store.open(home / "sessions" / "v.duckdb") as store:
        store.add_label(in_clean[0], "me", "leak", "related")  # a leak the detectors missed
    raised = _report(capsys)
    assert raised["corrected_leak_rate"] > lowered["corrected_leak_rate"]  # type: ignore[operator]
    assert raised["detectors"]["term"]["recall"] < 1.0  # type: ignore[index]
    lo, hi = raised["corrected_leak_rate_ci"]  # type: ignore[misc]
    assert lo <= raised["corrected_leak_rate"] <= hi  # type: ignore[operator]


def test_sample_cli_draws_unflagged_and_refuses_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _population(home / "sessions" / "v.duckdb", 5, 20)[0].close()
    assert main(["sample", "--session", "v", "--n", "3", "--unflagged", "4", "--seed", "2"]) == 0
    assert "7 rollouts" in capsys.readouterr().err
    with Store.open(home / "sessions" / "v.duckdb", read_only=True) as store:
        strata = dict(store.cur.execute("SELECT stratum, count(*) FROM samples GROUP BY 1").fetchall())
        probs = dict(store.cur.execute("SELECT stratum, any_value(inclusion_prob) FROM samples GROUP BY 1").fetchall())
    assert sorted(strata.values()) == [3, 4]
    assert sorted(probs.values()) == pytest.approx([4 / 20, 3 / 5])
    assert main(["sample", "--session", "v", "--n", "0", "--unflagged", "0"]) == 2
    assert "nothing to draw" in capsys.readouterr().err
