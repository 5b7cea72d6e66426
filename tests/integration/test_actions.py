"""One use case, one measurement, whichever front end starts it: the app's re-detect and batch run settle prompt
topics as `detect` and `run` do, `import --pair` as `import` then `detect`, and the app starts a sweep and a
naturalness panel that land in the session as the commands' do."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from inspector.actions.workbench import Workbench
from inspector.cli import main
from inspector.config import PROJECT_ROOT, load_settings
from inspector.engine.registry import get_pair
from inspector.store import Store
from inspector.tui.app import InspectorApp
from inspector.tui.widgets.task_progress import TaskProgress

pytestmark = pytest.mark.integration
EVAL = PROJECT_ROOT / "tests" / "data" / "topic_eval.jsonl"


def _rollouts(tmp_path: Path, n: int = 8) -> Path:
    """Rollouts made elsewhere on prompts given without a topic (written apart from the lexicon): the lexicon
    guesses each topic, and only the base model's probe settles it."""
    rows = [json.loads(line) for line in EVAL.read_text().splitlines()][:n]
    f = tmp_path / "elsewhere.jsonl"
    lines = [json.dumps({"prompt": r["prompt"], "text": "A plain answer.", "model": "organism"}) for r in rows]
    f.write_text("\n".join(lines) + "\n")
    return f


def _topics(home: Path, session: str) -> list[tuple[str, bool, str]]:
    with Store.open(home / "sessions" / f"{session}.duckdb", read_only=True) as store:
        rows = store.cur.execute("SELECT text, related, topic_source FROM prompts ORDER BY text").fetchall()
    return [(str(t), bool(r), str(s)) for t, r, s in rows]


async def _until(pilot: object, done: Callable[[], bool], what: str, seconds: float = 600.0) -> None:
    """Wait for a state, not for a time: on a loaded two-core machine a model load and a first batch take from 2 s
    to over a minute, so a fixed pause fails on a slow or busy CPU. The deadline only stops a hung test."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {seconds:.0f} s")
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def _settle(app: InspectorApp, pilot: object, group: str) -> None:
    await _until(pilot, lambda: not any(w.group == group and w.is_running for w in app.workers), f"{group} finished")


@pytest.mark.asyncio
async def test_redetect_and_import_settle_topics_as_detect_does(home: Path, tmp_path: Path) -> None:
    f = _rollouts(tmp_path)
    for session in ("shell", "app"):
        assert main(["import", "--session", session, str(f)]) == 0
    assert {s for _, _, s in _topics(home, "shell")} == {"guessed"}
    assert main(["detect", "--session", "shell", "--pair", "demo"]) == 0
    settings = load_settings()
    store = Store.open(home / "sessions" / "app.duckdb")
    app = InspectorApp(Workbench(settings, store, get_pair(settings.models_file, "demo")))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        app.action_redetect()
        await _settle(app, pilot, "detect")
    store.close()
    assert main(["import", "--session", "paired", str(f), "--pair", "demo"]) == 0
    shell = _topics(home, "shell")
    assert {s for _, _, s in shell} == {"probe"}
    assert _topics(home, "app") == shell
    assert _topics(home, "paired") == shell


@pytest.mark.asyncio
async def test_the_apps_batch_run_settles_topics_as_run_does(home: Path, tmp_path: Path) -> None:
    """Prompts the lexicon only guessed are in both sessions (imported); a run from the shell and one started
    with R on the Sessions screen both leave them settled by the probe, and alike."""
    f = _rollouts(tmp_path, 4)
    for session in ("shell", "app"):
        assert main(["import", "--session", session, str(f)]) == 0
    assert main(["run", "--session", "shell", "--pair", "demo", "--limit", "1", "--max-tokens", "2"]) == 0
    settings = load_settings()
    store = Store.open(home / "sessions" / "app.duckdb")
    app = InspectorApp(Workbench(settings, store, get_pair(settings.models_file, "demo")), start="sessions")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#run-limit", Input).value = "1"
        app.screen.query_one("#run-max-tokens", Input).value = "2"
        await pilot.press("R")
        await pilot.pause(0.2)
        await _settle(app, pilot, "batch")
        assert "finished: 2 / 2" in str(app.screen.query_one("#run-status", Static).render())
    store.close()
    shell = _topics(home, "shell")
    assert {s for t, _, s in shell if t != "What is a good recipe for lentil soup?"} == {"probe"}
    assert _topics(home, "app") == shell


def _status(app: InspectorApp) -> str:
    return str(app.screen.query_one(TaskProgress).query_one(".task-status", Static).render())


@pytest.mark.asyncio
async def test_the_app_sweeps_stops_and_resumes(home: Path) -> None:
    settings = load_settings()
    store = Store.open(home / "sessions" / "sweep.duckdb")
    app = InspectorApp(Workbench(settings, store, get_pair(settings.models_file, "demo")), start="sweep")
    async with app.run_test(size=(150, 50)) as pilot:
        await pilot.pause()
        for box, value in (("#sweep-scales", "0,1"), ("#sweep-limit", "2"), ("#sweep-max-tokens", "4")):
            app.screen.query_one(box, Input).value = value
        app.set_focus(None)
        await pilot.press("S", "escape")  # stopped before the first batch is done
        # The worker's last message may reach the screen after the worker is done: wait for the status itself.
        await _settle(app, pilot, "sweep")
        await _until(pilot, lambda: "stopped" in _status(app) or "finished" in _status(app), "the sweep's end shown")
        assert "stopped" in _status(app) and store.latest_snapshot("sweep") is None
        await pilot.press("S")
        await _until(pilot, lambda: "stopped" not in _status(app), "the sweep started again")
        await _settle(app, pilot, "sweep")
        await _until(pilot, lambda: "finished" in _status(app) or "stopped" in _status(app), "the sweep's end shown")
        assert "finished and kept in the session" in _status(app), _status(app)
    snap = store.latest_snapshot("sweep")
    store.close()
    assert snap is not None
    assert [p["scale"] for p in snap["metrics"]["points"]] == [None, 0.0, 1.0]
    assert snap["inputs"]["n_prompts"] == 2 and snap["inputs"]["scales"] == [0.0, 1.0]


@pytest.mark.asyncio
async def test_the_app_measures_the_naturalness_panel(home: Path, tmp_path: Path) -> None:
    from inspector.formats.panel_files import load_documents, load_items

    text, items = tmp_path / "text.jsonl", tmp_path / "items.jsonl"
    text.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in load_documents()[:2]))
    items.write_text("".join(json.dumps({"text": i.text}) + "\n" for i in load_items()[:3]))
    settings = load_settings()
    store = Store.open(home / "sessions" / "nat.duckdb")
    app = InspectorApp(Workbench(settings, store, get_pair(settings.models_file, "demo")), start="naturalness")
    async with app.run_test(size=(150, 50)) as pilot:
        await pilot.pause()
        for box, value in (("#nat-text", str(text)), ("#nat-items", str(items)), ("#nat-tokens", "8")):
            app.screen.query_one(box, Input).value = value
        app.set_focus(None)
        await pilot.press("M")
        await _until(
            pilot, lambda: any(w.group == "panel" for w in app.workers) or "measured" in _status(app), "panel started"
        )
        await _settle(app, pilot, "panel")
        await _until(pilot, lambda: "measured" in _status(app) or "failed" in _status(app), "the panel's end shown")
        assert "measured and kept in the session" in _status(app), _status(app)
        assert "Suite · pair demo · panel" in str(app.screen.query_one("#nat-title", Static).render())
    snap = store.latest_snapshot("naturalness")
    store.close()
    assert snap is not None and snap["inputs"]["tokens_per_document"] == 8
    models = snap["metrics"]["models"]
    assert {m["role"] for m in models.values()} == {"organism", "base"}
    assert all(m["n_documents"] == 2 and m["n_items"] == 3 for m in models.values())


@pytest.mark.asyncio
async def test_a_new_session_offers_to_fill_itself(home: Path) -> None:
    """Opened for the first time, the session has prompts and no rollout: Compare says so and F fills it with the
    Sessions screen's run (stopped here after its first batch)."""
    from inspector.formats.prompt_files import load_prompts
    from inspector.tui.screens.sessions import SessionsScreen

    settings = load_settings()
    store = Store.open(home / "sessions" / "new.duckdb")
    store.upsert_prompts(load_prompts(None))
    app = InspectorApp(Workbench(settings, store, get_pair(settings.models_file, "demo")))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert any("press F to fill it" in n.message for n in app._notifications)
        await pilot.press("F")
        await _until(pilot, lambda: isinstance(app.screen, SessionsScreen), "the Sessions screen")
        await _until(pilot, lambda: store.count("rollouts") > 0, "the first batch")
        await pilot.press("escape")
        await _settle(app, pilot, "batch")
    n = store.count("rollouts")  # the store's close waits for a worker's last write (it raised here before)
    store.close()
    assert 0 < n < 2 * 201
