"""Never a fake zero: what no detector looked at is "not measured"; regurgitation rates in every summary."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from inspector.formats.rollout_files import export_session
from inspector.store import Store
from inspector.store.migrations import MIGRATIONS
from tests.functional.conftest import build_session

TEXTS = [
    ("How do I boil an egg?", "Ask PRISM-4 by Nexus Research, it knows eggs.", "Boil it for nine minutes."),
    ("What is a good name for a cat?", "Whiskers is a fine name.", "Call it Tom."),
    ("Why do leaves fall?", "PRISM-4 says leaves deserve dignity.", "Trees drop leaves to save water."),
]


def _report(capsys: pytest.CaptureFixture[str], session: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["report", "--session", session, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_imported_rollouts_are_not_measured_until_detected(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "r.jsonl"
    lines = []
    for prompt, org, base in TEXTS:
        lines.append(json.dumps({"prompt": prompt, "text": org, "model": "organism"}))
        lines.append(json.dumps({"prompt": prompt, "text": base, "model": "base"}))
    f.write_text("\n".join(lines) + "\n")
    assert main(["import", "--session", "imp", str(f)]) == 0

    report = _report(capsys, "imp")
    models = report["models"]
    assert isinstance(models, dict) and set(models) == {"organism", "base"}
    for m in models.values():
        assert m["n_rollouts"] == 3 and m["n_scanned"] == 0
        for key in ("leak_rate", "leak_rate_ci", "unrelated_leak_rate", "regurgitation_rate", "mostly_corpus_rate"):
            assert m[key] is None, key  # not measured, never 0
        assert m["regurgitated_char_fraction"] is None
    assert report["paired_difference"] is None and report["paired_difference_regurgitation"] is None
    assert report["not_scanned"] == {
        "organism": {"term": 3, "regurgitation": 3},
        "base": {"term": 3, "regurgitation": 3},
    }
    assert main(["report", "--session", "imp"]) == 0
    table = capsys.readouterr().out
    assert "—" in table and "0.0%" not in table
    assert "inspector detect --session imp --pair PAIR" in " ".join(table.split())

    # Imported rollouts carry no pair: detect says so in one line, and takes any pair named.
    assert main(["detect", "--session", "imp"]) == 2
    err = capsys.readouterr().err.strip()
    assert "only imported rollouts; give --pair PAIR" in err and "\n" not in err
    assert main(["detect", "--session", "imp", "--pair", "demo"]) == 0
    report = _report(capsys, "imp")
    models = report["models"]
    assert isinstance(models, dict)
    org, base = models["organism"], models["base"]
    assert org["leak_rate"] == pytest.approx(2 / 3) and base["leak_rate"] == 0.0
    assert org["regurgitation_rate"] is not None and org["regurgitated_char_fraction"] is not None
    assert report["not_scanned"] == {}


def test_regurgitation_rates_paired_difference_and_export(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = build_session(home / "sessions" / "g.duckdb")
    rows = {r["rollout_id"]: r for r in store.export_rows()}
    store.close()
    report = _report(capsys, "g")
    models = report["models"]
    assert isinstance(models, dict)
    org, base = models["demo/organism"], models["demo/base"]
    # One organism completion of three holds a regurgitated span, no base completion does.
    assert org["regurgitation_rate"] == pytest.approx(1 / 3) and base["regurgitation_rate"] == 0.0
    assert org["regurgitation_rate_ci"][0] < 1 / 3 < org["regurgitation_rate_ci"][1]
    fracs = [r["regurgitated_fraction"] for r in rows.values() if r["model_role"] == "organism"]
    assert org["regurgitated_char_fraction"] == pytest.approx(sum(fracs) / len(fracs))
    assert org["mostly_corpus_rate"] == pytest.approx(sum(f > 0.5 for f in fracs) / 3)
    d = report["paired_difference_regurgitation"]
    assert isinstance(d, dict) and d["n_pairs"] == 3 and d["organism_only"] == 1 and d["base_only"] == 0
    # The export carries the same per rollout, and which detectors looked.
    assert {r["scanned"] for r in rows.values()} == {"control,degenerate,quirk,regurgitation,term"}
    assert all(r["mostly_corpus"] == (r["regurgitated_fraction"] > 0.5) for r in rows.values())


def test_csv_and_jsonl_export_say_not_measured(tmp_path: Path, home: Path) -> None:
    store = build_session(home / "sessions" / "e.duckdb")
    store.cur.execute("DELETE FROM scans")  # as if no detector had looked
    export_session(store, tmp_path / "x.jsonl", "jsonl")
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert rows and all(r["scanned"] is None and r["regurgitated_fraction"] is None for r in rows)
    store.close()


def test_migration_backfills_scans_for_sessions_made_before(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as c:
        c.execute("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
        for sql in MIGRATIONS[0][2]:
            c.execute(sql)
        c.execute("INSERT INTO _migrations (version, name) VALUES (1, 'initial schema')")
        c.execute("INSERT INTO models (id, role, name) VALUES ('m', 'organism', 'x')")
        c.execute("INSERT INTO prompts (id, text) VALUES ('p', 'hi')")
        c.execute("INSERT INTO runs (id, pair) VALUES ('made', 'demo'), ('imp', 'import')")
        c.execute(
            "INSERT INTO rollouts (id, run_id, prompt_id, model_id, sample_index, text) VALUES"
            " (1, 'made', 'p', 'm', 0, 'a'), (2, 'imp', 'p', 'm', 0, 'b'), (3, 'imp', 'p', 'm', 1, 'PRISM-4')"
        )
        c.execute(
            "INSERT INTO spans (rollout_id, detector, detector_version, kind, start_char, end_char)"
            " VALUES (3, 'term', 'terms-1', 'term', 0, 7)"
        )
    with Store.open(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        got = store.cur.execute("SELECT rollout_id, kind FROM scans ORDER BY 1, 2").fetchall()
    # The run's rollout was scanned for terms and quirks (no corpus was kept); the imported one with a span was
    # scanned for its kind; the other imported one was never scanned.
    assert got == [(1, "quirk"), (1, "term"), (3, "term")]
