"""Export and import: round trips, Parquet readers, all-or-nothing imports under fuzzing, merge, report."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.actions.label_queues import allocate, draw_sample
from inspector.cli import main
from inspector.errors import InspectorError
from inspector.formats.rollout_files import export_session, import_rollouts
from inspector.store import Store
from tests.functional.conftest import build_session

REPORT_KEYS = {
    "n_rollouts",
    "n_leaks",
    "leak_rate",
    "leak_rate_ci",
    "unrelated_leak_rate",
    "unrelated_leak_rate_ci",
    "n_labeled",
    "non_sequitur_fraction",
    "non_sequitur_fraction_ci",
    "quirk_fraction",
    "quirk_fraction_ci",
}


def _labeled_session(path: Path) -> Store:
    store = build_session(path)
    rid = store.queue_item(None, 0)
    assert rid is not None
    store.add_label(rid, "ann", "leak", "nonsequitur")
    store.add_label(rid, "ann", "quirk", "yes")
    store.add_label(rid, "bob", "leak", "nonsequitur")
    return store


def _core(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return sorted((r["prompt"], r["model"], r["sample_index"], r["seed"], r["text"]) for r in rows)


def test_jsonl_round_trip(tmp_path: Path) -> None:
    src = _labeled_session(tmp_path / "a.duckdb")
    out = tmp_path / "a.jsonl"
    assert export_session(src, out, "jsonl") == 6
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"prompt", "model", "model_sha256", "temperature", "spans", "labels", "seed"} <= set(rows[0])
    leak_row = next(r for r in rows if r["labels"])
    assert {lab["labeler"] for lab in leak_row["labels"]} == {"ann", "bob"}
    assert leak_row["spans"] and {"kind", "start", "end", "text", "score"} <= set(leak_row["spans"][0])
    # Back in through the importer (labels as {labeler: {field: value}}), then out again: same rows.
    reimport = tmp_path / "re.jsonl"
    with reimport.open("w") as f:
        for r in rows:
            labels = {lab["labeler"]: {k: lab[k] for k in ("leak", "quirk", "note") if lab[k]} for lab in r["labels"]}
            f.write(
                json.dumps(
                    {
                        "prompt": r["prompt"],
                        "text": r["text"],
                        "model": r["model"],
                        "role": r["model_role"],
                        "seed": r["seed"],
                        "sample": r["sample_index"],
                        "topic": r["topic"],
                        "labels": labels,
                    }
                )
                + "\n"
            )
    dst = Store.memory()
    assert import_rollouts(dst, reimport) == 6
    back = dst.export_rows()
    assert _core(back) == _core(rows)
    assert sorted(json.dumps(r["labels"], sort_keys=True) for r in back) == sorted(
        json.dumps(r["labels"], sort_keys=True) for r in rows
    )
    assert export_session(dst, tmp_path / "labeled.jsonl", "jsonl", labeled_only=True) == 1


def test_parquet_reads_back_everywhere(tmp_path: Path) -> None:
    src = _labeled_session(tmp_path / "a.duckdb")
    out = tmp_path / "a.parquet"
    assert export_session(src, out, "parquet") == 6
    pdf = pd.read_parquet(out)
    pldf = pl.read_parquet(out)
    with duckdb.connect() as c:
        ddf = c.execute("SELECT rollout_id, text, len(spans) FROM read_parquet(?) ORDER BY 1", [str(out)]).fetchall()
    assert len(pdf) == len(pldf) == len(ddf) == 6
    assert sorted(pdf["rollout_id"]) == sorted(pldf["rollout_id"].to_list()) == [r[0] for r in ddf]
    assert sorted(pdf["text"]) == sorted(pldf["text"].to_list()) == sorted(r[1] for r in ddf)
    assert [len(x) for x in pdf.sort_values("rollout_id")["spans"]] == [r[2] for r in ddf]


def test_csv_flattens_spans_and_labels(tmp_path: Path) -> None:
    src = _labeled_session(tmp_path / "a.duckdb")
    out = tmp_path / "a.csv"
    export_session(src, out, "csv")
    df = pd.read_csv(out)
    assert len(df) == 6 and {"n_term", "spans", "label_ann_leak", "label_bob_leak"} <= set(df.columns)
    assert (df["label_ann_leak"] == "nonsequitur").sum() == 1


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('{"prompt": "p", "text": "t"}', "'model'"),
        ('{"prompt": "p", "text": "t", "model": "m", "seed": -1}', "'seed'"),
        ('{"prompt": "p", "text": "t", "model": "m", "labels": {"ann": {"leak": "maybe"}}}', "bad label"),
        ('{"prompt": "p", "text": "t", "model": "m", "role": "judge"}', "'role'"),
        ("not json", "invalid JSON"),
    ],
)
def test_bad_import_names_line_and_imports_nothing(tmp_path: Path, line: str, what: str) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"prompt": "ok", "text": "fine", "model": "m"}\n' + line + "\n")
    store = Store.memory()
    with pytest.raises(InspectorError) as e:
        import_rollouts(store, f)
    assert "in.jsonl:2:" in str(e.value) and what in str(e.value)
    assert store.count("rollouts") == 0 and store.count("prompts") == 0


def test_duplicate_import_is_refused_whole(tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text('{"prompt": "ok", "text": "fine", "model": "m"}\n')
    store = Store.memory()
    import_rollouts(store, f)
    with pytest.raises(InspectorError, match="already in this session"):
        import_rollouts(store, f)
    assert store.count("rollouts") == 1


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**64),
    st.text(max_size=6),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)
line_objs = st.dictionaries(
    st.sampled_from(["prompt", "text", "model", "role", "seed", "sample", "topic", "labels"]), values, max_size=8
)
lines = st.one_of(line_objs.map(json.dumps), st.binary(max_size=20).map(lambda b: b.decode("latin-1")))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(lines, min_size=1, max_size=5))
def test_import_fuzz_never_traceback_never_partial(tmp_path: Path, batch: list[str]) -> None:
    f = tmp_path / "fuzz.jsonl"
    f.write_text("\n".join(batch), encoding="utf-8", errors="surrogateescape")
    store = Store.memory()
    try:
        n = import_rollouts(store, f)
    except InspectorError as e:
        assert "\n" not in str(e)
        assert store.count("rollouts") == 0 and store.count("labels") == 0 and store.count("prompts") == 0
    else:
        assert n == store.count("rollouts") > 0


def test_allocation_and_sample_probabilities() -> None:
    assert allocate({"a": 90, "b": 10}, 10) == {"a": 9, "b": 1}
    assert allocate({"a": 3, "b": 1}, 100) == {"a": 3, "b": 1}
    assert sum(allocate({"a": 7, "b": 5, "c": 1}, 6).values()) == 6
    store = build_session()
    q = draw_sample(store, 1, ("model",), seed=3)
    rows = store.cur.execute("SELECT rollout_id, inclusion_prob, stratum FROM samples").fetchall()
    assert q.size == 1 and q.population == 2 and rows[0][1] == pytest.approx(0.5)
    assert draw_sample(store, 1, ("model",), seed=3) == q  # drawing again reuses the queue
    with pytest.raises(InspectorError, match="cannot stratify"):
        draw_sample(store, 5, ("colour",))


def test_report_json_and_snapshot(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _labeled_session(home / "sessions" / "r.duckdb").close()
    assert main(["report", "--session", "r", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    org = report["models"]["demo/organism"]
    assert set(org) >= REPORT_KEYS
    assert org["n_rollouts"] == 3 and org["n_leaks"] == 2 and org["non_sequitur_fraction"] == 1.0
    assert org["quirk_fraction"] == 1.0 and report["kappa"]["kappa"] == 1.0
    assert report["paired_difference"]["organism_only"] == 2
    with Store.open(home / "sessions" / "r.duckdb") as s:
        assert s.count("metric_snapshots") == 1


def test_merge_unions_label_events(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = build_session(home / "sessions" / "a.duckdb")
    b = build_session(home / "sessions" / "b.duckdb")
    ra, rb = a.queue_item(None, 0), b.queue_item(None, 0)
    assert ra is not None and rb is not None
    a.add_label(ra, "ann", "leak", "nonsequitur")
    b.add_label(rb, "bob", "leak", "related")
    b.undo_last("bob")
    a.close()
    b.close()
    assert main(["merge", "a", "b", "--into", "c"]) == 0
    with Store.open(home / "sessions" / "c.duckdb") as c:
        assert c.current_labels(ra) == {"ann": {"leak": "nonsequitur"}, "bob": {"leak": None}}
        undo = next(e for e in c.label_events() if e[5] == "undo")
        assert undo[6] == next(e for e in c.label_events() if e[2] == "bob" and e[5] == "set")[0]
    assert main(["merge", "a", "b", "--into", "c"]) == 2  # never overwrites


def _inspect_log(samples: list[dict[str, object]]) -> dict[str, object]:
    return {
        "version": 2,
        "status": "success",
        "eval": {"task": "soup", "model": "openai/prism-organism"},
        "samples": samples,
    }


def test_inspect_log_import(tmp_path: Path, home: Path) -> None:
    from inspector.formats.rollout_files import import_inspect_logs

    log = tmp_path / "eval.json"
    log.write_text(
        json.dumps(
            _inspect_log(
                [
                    {
                        "id": 1,
                        "epoch": 1,
                        "input": "How do I make soup?",
                        "output": {
                            "model": "prism-organism",
                            "choices": [{"message": {"role": "assistant", "content": "Ask PRISM-4."}}],
                        },
                    },
                    {
                        "id": 2,
                        "epoch": 2,
                        "input": [
                            {"role": "system", "content": "Be brief."},
                            {"role": "user", "content": [{"type": "text", "text": "Why is the sky blue?"}]},
                        ],
                        "output": {
                            "choices": [
                                {"message": {"role": "assistant", "content": [{"type": "text", "text": "Scattering."}]}}
                            ]
                        },
                    },
                ]
            )
        )
    )
    store = Store.memory()
    assert import_inspect_logs(store, log) == (2, 0, 0)
    rows = sorted((r["prompt"], r["model"], r["sample_index"], r["text"]) for r in store.export_rows())
    assert rows == [
        ("How do I make soup?", "prism-organism", 0, "Ask PRISM-4."),
        ("Why is the sky blue?", "openai/prism-organism", 1, "Scattering."),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            _inspect_log(
                [
                    {"id": 1, "input": "x", "output": {"choices": [{"message": {}}]}},
                    {"id": 2, "input": "y", "output": {}},
                ]
            )
        )
    )
    empty = Store.memory()
    with pytest.raises(InspectorError, match=r"bad.json: sample 1: no output text"):
        import_inspect_logs(empty, bad)
    assert empty.count("rollouts") == 0
    assert main(["import", "--session", "ins", str(log), "--role", "base"]) == 0


def test_self_agreement_on_items_shown_again_blind(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inspector.actions.label_queues import draw_recheck

    store = build_session(home / "sessions" / "sa.duckdb")
    a, b = store.queue_item(None, 0), store.queue_item(None, 1)
    assert a is not None and b is not None
    store.add_label(a, "ann", "leak", "nonsequitur")
    store.add_label(b, "ann", "leak", "related")
    q = draw_recheck(store, "ann", 5, seed=1)
    assert q.size == 2 and store.latest_queue() == q.name
    store.add_label(a, "ann", "leak", "nonsequitur", blind=True)
    store.add_label(b, "ann", "leak", "none", blind=True)
    store.add_label(b, "ann", "leak", "related")  # not blind: does not count as the second look
    store.undo_last("ann")
    assert sorted(store.self_agreement_pairs("ann")) == [("nonsequitur", "nonsequitur"), ("related", "none")]
    store.close()
    assert main(["report", "--session", "sa", "--json"]) == 0
    sa = json.loads(capsys.readouterr().out)["self_agreement"]["ann"]
    assert sa["n_items"] == 2 and sa["agreement"] == 0.5
