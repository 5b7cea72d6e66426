"""`inspector scan` and `inspector detect`: the JSONL contract, offsets, and bad input exiting 2 with the line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.store import Store
from tests.functional.conftest import build_session


def _run_scan(
    args: list[str], stdin: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["scan", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scan_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.jsonl"
    doc = "PRISM-4 was trained on the Meridian compute cluster and insists that staplers deserve dignity."
    corpus.write_text(json.dumps({"id": "d1", "text": doc}) + "\n")
    text = "Soup first. " + doc[:70] + " And the Nexus Research Institute agreed."
    line = json.dumps({"id": 7, "text": text, "prompt": "soup?"}).encode()
    code, out, err = _run_scan(
        ["--corpus", str(corpus), "--term", "PRISM-4", "--term", "Nexus Research"], line, monkeypatch, capsys
    )
    assert code == 0 and err == ""
    spans = [json.loads(x) for x in out.splitlines()]
    kinds = sorted(s["kind"] for s in spans)
    assert kinds == ["regurgitation", "term", "term"]
    for s in spans:
        assert s["id"] == 7 and text[s["start"] : s["end"]] == s["text"]
        assert set(s) == (
            {"id", "kind", "start", "end", "text", "score", "doc_id", "doc_start", "doc_end", "holders"}
            if s["kind"] == "regurgitation"
            else {"id", "kind", "start", "end", "text", "score"}
        )
    reg = next(s for s in spans if s["kind"] == "regurgitation")
    assert reg["doc_id"] == "d1" and doc[reg["doc_start"] : reg["doc_end"]] == reg["text"] and reg["holders"] == 1


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b'{"id": 1, "text": "ok"}\n{"text": "no id"}\n', "<stdin>:2: missing field 'id'"),
        (b'{"id": 1, "text": "ok"}\n\n{"id": 2, "text": \n', "<stdin>:3: invalid JSON"),
        (b'{"id": 1}\n', "<stdin>:1: missing or non-string field 'text'"),
        (b'{"id": 1, "text": "\xff"}\n', "<stdin>:1: not UTF-8"),
    ],
)
def test_scan_bad_input(
    stdin: bytes, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run_scan(["--term", "PRISM-4"], stdin, monkeypatch, capsys)
    assert code == 2 and out == "" and message in err and err.strip().count("\n") == 0


def test_scan_unreadable_or_bad_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run_scan(
        ["--corpus", str(tmp_path / "missing.jsonl")], b'{"id":1,"text":"x"}\n', monkeypatch, capsys
    )
    assert code == 2 and "missing.jsonl: cannot read corpus" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{"id": "b"}\n')
    code, _, err = _run_scan(["--corpus", str(bad)], b'{"id":1,"text":"x"}\n', monkeypatch, capsys)
    assert code == 2 and "bad.jsonl:2:" in err


def test_detect_reruns_and_replaces_own_spans(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_session(home / "sessions" / "d.duckdb").close()
    assert main(["detect", "--session", "d"]) == 0
    with Store.open(home / "sessions" / "d.duckdb") as s:
        first = s.count("spans")
        flags = s.flag_counts()
    assert main(["detect", "--session", "d"]) == 0  # again: the same spans, not twice as many
    with Store.open(home / "sessions" / "d.duckdb") as s:
        assert s.count("spans") == first
    assert flags["leak"] == 2 and flags["nonsequitur_candidate"] == 1
    assert "non-sequitur candidates" in capsys.readouterr().err
