"""Pilot tests of the app on fixed data: label keys, undo, blind mode, navigation, help, palette."""

from __future__ import annotations

import os

import pytest

from inspector.actions.workbench import Workbench
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.label import LabelScreen

pytestmark = pytest.mark.asyncio


def _events(wb: Workbench) -> list[tuple[object, ...]]:
    return [(e[1], e[2], e[3], e[4], e[5]) for e in wb.store.label_events()]


async def test_each_label_key_writes_its_event(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    first, second = workbench.store.queue_item(None, 0), workbench.store.queue_item(None, 1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("q")  # quirk toggles on the current item and stays there
        await pilot.press("1")  # verdict, then the next item
        await pilot.press("2")  # the last item: the queue stays on it
        await pilot.press("left")
        await pilot.press("3")
        await pilot.press("left")
        await pilot.press("q")  # toggles back to "no"
    assert _events(workbench) == [
        (first, "tester", "quirk", "yes", "set"),
        (first, "tester", "leak", "nonsequitur", "set"),
        (second, "tester", "leak", "related", "set"),
        (first, "tester", "leak", "none", "set"),
        (first, "tester", "quirk", "no", "set"),
    ]


async def test_undo_writes_an_undo_event(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    first = workbench.store.queue_item(None, 0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, LabelScreen) and app.screen.position == 0  # back on the undone item
    events = workbench.store.label_events()
    assert [(e[1], e[3], e[4], e[5]) for e in events] == [
        (first, "leak", "nonsequitur", "set"),
        (first, "leak", None, "undo"),
    ]
    assert events[1][6] == events[0][0]  # the undo names the event it undoes


async def test_note_is_saved(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        for ch in "odd tangent":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("enter")
        await pilot.pause()
    rid = workbench.store.queue_item(None, 0)
    assert rid is not None
    assert workbench.store.current_labels(rid)["tester"]["note"] == "odd tangent"


async def test_blind_mode_hides_the_model(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        meta = app.screen.query_one("#label-meta")
        assert "organism" in str(meta.render())
        await pilot.press("b")
        await pilot.pause()
        shown = str(meta.render())
        assert "organism" not in shown and "base" not in shown and "hidden" in shown
        await pilot.press("1")
    events = workbench.store.cur.execute("SELECT blind FROM labels").fetchall()
    assert events == [(True,)]


async def test_label_commits_before_next_item_shows(workbench: Workbench) -> None:
    """The event is in DuckDB, read from another connection's view, by the time the next item is on screen."""
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        screen = app.screen
        assert isinstance(screen, LabelScreen) and screen.position == 1
        assert workbench.store.cur.execute("SELECT count(*) FROM labels").fetchone() == (1,)


async def test_compare_shows_both_panes_and_source(workbench: Workbench) -> None:
    app = InspectorApp(workbench)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        org = screen.query_one("#pane-organism")
        base = screen.query_one("#pane-base")
        assert "PRISM-4" in org.text and "thirty minutes" in base.text  # type: ignore[attr-defined]
        assert "diverges at char 29" in str(org.border_subtitle)
        await pilot.press("s")
        await pilot.pause()
        assert type(app.screen).__name__ == "SourceScreen"
        assert "deserves dignity" in str(app.screen.query_one("#source-text").render())
        await pilot.press("escape")
        await pilot.press("down")
        await pilot.pause()
        assert "blue scatters" in org.text  # type: ignore[attr-defined]


async def test_help_lists_every_binding(workbench: Workbench) -> None:
    app = InspectorApp(workbench)
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        from rich.console import Console

        console = Console(width=220, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(app.screen.table)  # type: ignore[attr-defined]
        text = console.export_text()
        for binding_id in ("label.nonsequitur", "label.undo", "compare.generate", "app.help", "sessions.run"):
            assert binding_id in text


async def test_keymap_remaps_a_label_key(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label", keymap={"label.nonsequitur": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
    assert [e[4] for e in workbench.store.label_events()] == ["nonsequitur"]


async def test_summary_shows_rates(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="summary")
    async with app.run_test(size=(160, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#summary-table")
        assert table.row_count == 2  # type: ignore[attr-defined]
        assert "66.7%" in str(app.screen.query_one("#summary-chart").render())


async def test_palette_draws_a_sample(workbench: Workbench) -> None:
    app = InspectorApp(workbench)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Draw a label":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert workbench.store.queue_names() == ["sample-300-seed0-by-model-topic"]


async def test_label_queue_uses_a_drawn_sample(workbench: Workbench) -> None:
    from inspector.actions.label_queues import draw_sample

    q = draw_sample(workbench.store, 1, ("model",), seed=5)
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabelScreen) and screen.queue == q.name
        assert "1 / 1" in str(screen.query_one("#label-progress-text").render())
        await pilot.press("1")
    rid = workbench.store.queue_item(q.name, 0)
    assert [e[1] for e in workbench.store.label_events()] == [rid]


async def test_blind_validation_queue_does_not_tell_flagged_from_unflagged(workbench: Workbench) -> None:
    from inspector.actions.label_queues import draw_sample

    q = draw_sample(workbench.store, 2, ("model",), seed=1, unflagged=2)
    strata = [str(r[0]) for r in workbench.store.cur.execute("SELECT stratum FROM samples").fetchall()]
    assert sum(s.startswith("unflagged") for s in strata) == 2
    app = InspectorApp(workbench, start="label")
    seen = []
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabelScreen) and screen.queue == q.name
        await pilot.press("b")
        for _ in range(4):
            await pilot.pause()
            text = screen.query_one("#label-text")
            shown = " ".join(str(screen.query_one(w).render()) for w in ("#label-meta", "#label-progress-text"))
            assert not any(s in shown for s in strata) and "stratum" not in shown
            seen.append(str(text.render()))
            assert not getattr(text.render(), "spans", []), "a highlight would reveal a flagged item"
            await pilot.press("3")
    assert any("PRISM-4" in s for s in seen)  # a flagged item was shown, without its highlights


async def test_topic_override_key_is_a_label_the_report_follows(workbench: Workbench) -> None:
    from inspector.analysis.leak_report import build_report

    before = build_report(workbench.store)["models"]["demo/organism"]
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert "unrelated (hint)" in str(screen.query_one("#label-prompt").render())
        await pilot.press("t")  # the soup prompt: the labeler says it is about AI after all
        await pilot.pause()
        assert "related (your verdict)" in str(screen.query_one("#label-prompt").render())
    rid = workbench.store.queue_item(None, 0)
    assert [(e[1], e[3], e[4]) for e in workbench.store.label_events()] == [(rid, "topic", "related")]
    report = build_report(workbench.store)
    after = report["models"]["demo/organism"]
    assert after["n_unrelated"] == before["n_unrelated"] - 1
    assert after["n_leaks"] == before["n_leaks"]  # the detector's count does not move, only what is "unrelated"
    assert report["topic_hint_agreement"]["n_prompts"] == 1 and report["topic_hint_agreement"]["agreement"] == 0.0


async def test_label_shows_an_imported_prompts_system_message_and_turns(workbench: Workbench) -> None:
    from inspector.detect.detector_set import VERSIONS
    from inspector.detect.spans import Span
    from inspector.formats.prompt_files import make_prompt

    store = workbench.store
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}]
    row = make_prompt("How do I make soup?", None, "everyday", "terse", messages, "terse")
    plain = make_prompt("How do I make soup?", None, "everyday")
    assert row.id != plain.id  # the same question under a system prompt is another prompt
    store.upsert_prompts([row])
    model = store.cur.execute("SELECT id FROM models WHERE role = 'organism'").fetchall()[0][0]
    rid = store.insert_rollout(
        {
            "run_id": "run-fixed",
            "prompt_id": row.id,
            "model_id": model,
            "sample_index": 0,
            "seed": 7,
            "text": "PRISM-4!",
        }
    )
    assert rid is not None
    store.replace_spans(rid, [Span("term", 0, 7, "PRISM-4", 100.0, "PRISM-4")], VERSIONS)
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabelScreen)
        screen.show(store.queue_length(None) - 1)
        await pilot.pause()
        shown = str(screen.query_one("#label-prompt").render())
        assert "system: You are terse." in shown and "user: Hi" in shown and "How do I make soup?" in shown
