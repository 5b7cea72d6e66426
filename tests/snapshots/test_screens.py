"""Snapshot tests: each screen on fixed data (look at the SVGs before updating them)."""

from __future__ import annotations

from pathlib import Path

from inspector.actions.workbench import Workbench
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.registry import get_pair
from inspector.tui.app import InspectorApp
from tests.functional.conftest import build_session

SIZE = (120, 36)


def _app(home: Path, start: str = "compare") -> InspectorApp:
    store = build_session(home / "sessions" / "snap.duckdb")
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    return InspectorApp(Workbench(load_settings(), store, pair), start=start)


def test_compare(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(home), terminal_size=SIZE)


def test_label(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(home, "label"), terminal_size=SIZE)


def test_label_blind(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(home, "label"), terminal_size=SIZE, press=["b"])


def test_summary(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(home, "summary"), terminal_size=SIZE, run_before=settle)


def test_source(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(home), terminal_size=SIZE, press=["s"])


def test_help(snap_compare, home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(home), terminal_size=(160, 50), press=["question_mark"])
