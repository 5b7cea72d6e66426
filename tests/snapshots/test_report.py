"""`inspector report` in an 80-column terminal: a role for every model, names whole (a text snapshot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from inspector.cli import main
from tests.functional.conftest import build_session


def test_report_at_80_columns(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, snapshot: SnapshotAssertion
) -> None:
    build_session(home / "sessions" / "r.duckdb").close()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["report", "--session", "r"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "demo/organism" in out and "demo/base" in out and "…" not in out
    assert out == snapshot
