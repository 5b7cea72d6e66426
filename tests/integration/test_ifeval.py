"""`inspector ifeval` end to end on the chat demo pair: a resumable run scored as `ifeval score` scores it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from inspector.actions.ifeval import DEFAULT_SET
from inspector.cli import main

pytestmark = pytest.mark.integration

ARGS = ["--pair", "chat-demo", "--limit", "3", "--max-tokens", "12"]


def test_a_run_scored_resumed_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = str(tmp_path / "s.duckdb")
    assert main(["ifeval", "--session", session, *ARGS, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert {m["n_prompts"] for m in first["models"].values()} == {3}
    assert set(first["models"]) == {"chat-demo/organism", "chat-demo/base"}
    assert first["organism_vs_base"]["n_pairs"] == 3

    # Resumed: nothing is made again, and the same texts give the same figures.
    assert main(["ifeval", "--session", session, *ARGS, "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == first and "0 new responses, 6 already done" in out.err

    assert main(["report", "--session", session, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ifeval"]["models"] == first["models"] and report["ifeval"]["pair"] == "chat-demo"

    # The stored answers, scored through the file route, give the run's verdicts.
    with duckdb.connect(session, read_only=True) as c:
        rows = c.execute(
            "SELECT p.text, m.role, r.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
            " JOIN models m ON m.id = r.model_id WHERE p.prompt_set = 'ifeval' ORDER BY r.id"
        ).fetchall()
    assert len(rows) == 6
    for role in ("organism", "base"):
        responses = tmp_path / f"{role}.jsonl"
        responses.write_text("".join(json.dumps({"prompt": p, "response": t}) + "\n" for p, r, t in rows if r == role))
        assert main(["ifeval", "score", "--input-data", str(DEFAULT_SET), "--responses", str(responses)]) == 0
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        strict = sum(x["strict"] for x in lines) / len(lines)
        assert strict == first["models"][f"chat-demo/{role}"]["prompt_strict"]


def test_bad_input_data_is_one_line_and_no_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "input.jsonl"
    data.write_text(
        json.dumps({"key": 1, "prompt": "Hi.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})
        + "\n"
        + json.dumps({"key": 2, "prompt": "Yo.", "instruction_id_list": ["startend:quote"], "kwargs": [{}]})
        + "\n"
    )
    session = tmp_path / "s.duckdb"
    assert main(["ifeval", "--session", str(session), "--input-data", str(data), *ARGS]) == 2
    err = capsys.readouterr().err
    assert f"{data}:2: unknown instruction id 'startend:quote'" in err and err.count("\n") == 1
    assert not session.exists()
