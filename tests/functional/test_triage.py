"""Find and triage: search, filters (each and combined, remembered), reopening at the first unlabeled item,
jump keys, and the other model's answer beside the item (never in blind mode)."""

from __future__ import annotations

import pytest

from inspector.actions.workbench import Workbench
from inspector.store import Filters, Store
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.label import LabelScreen
from inspector.tui.widgets.completion_pane import CompletionPane

pytestmark = pytest.mark.asyncio


async def test_search_lists_matches_and_opens_one_in_compare(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        await pilot.press(*"geneva", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        results = app.screen.query_one("#search-results")
        assert results.option_count == 1  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert "Geneva" in screen.query_one("#pane-organism", CompletionPane).text
        # Regular expressions, case-insensitive; the count comes from DuckDB, not a loop over rollouts.
        await pilot.press("ctrl+f", "ctrl+r")
        await pilot.press(*r"prism-\d", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#search-results").option_count == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("filters", "prompts"),
    [
        (Filters(role="base", kind="term"), []),
        (Filters(role="organism", kind="term"), ["How do I make lentil soup?", "Who made you?"]),
        (Filters(kind="regurgitation"), ["How do I make lentil soup?"]),
        (Filters(nonsequitur=True), ["How do I make lentil soup?"]),
        (Filters(related=True), ["Who made you?"]),
        (Filters(topic="science"), ["Why is the sky blue?"]),
        (
            Filters(run="run-fixed", related=False, role="organism"),
            ["How do I make lentil soup?", "Why is the sky blue?"],
        ),
        (Filters(labeled=True), ["Who made you?"]),
        (Filters(label="related"), ["Who made you?"]),
        (Filters(labeled=False, kind="term"), ["How do I make lentil soup?"]),
    ],
)
def test_each_filter_and_combinations(workbench: Workbench, filters: Filters, prompts: list[str]) -> None:
    store = workbench.store
    who_made_you = next(r for r in store.rollouts() if r["text"].startswith("I am PRISM-4"))["id"]
    store.add_label(int(who_made_you), "tester", "leak", "related")
    assert [p["text"] for p in store.filtered_prompts(filters, "tester")] == prompts


async def test_filters_are_shown_applied_and_remembered(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="compare")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#filter-role").value = "base"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen) and len(screen.prompts) == 3
        shown = str(screen.query_one("#compare-filters").render())
        assert "role=base" in shown
    assert workbench.store.saved_filters("compare") == Filters(role="base")
    app = InspectorApp(workbench, start="compare")  # reopened: the session remembers
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.filters == Filters(role="base")
        await pilot.press("f", "x")
        await pilot.pause()
        assert not screen.filters.active()


async def test_label_queue_filter_and_first_unlabeled(workbench: Workbench) -> None:
    store = workbench.store
    first = store.queue_item(None, 0)
    assert first is not None
    store.add_label(first, "tester", "leak", "nonsequitur")
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabelScreen)
        assert screen.position == 1  # reopened at the first item this labeler has not labeled
        await pilot.press("home")
        assert screen.position == 0
        await pilot.press("end")
        assert screen.position == store.queue_length(None) - 1
        await pilot.press("home", "j")
        assert screen.position == 1
        screen.filters = Filters(kind="regurgitation")
        screen._apply_filters()
        screen.show(0)
        await pilot.pause()
        assert screen.item is not None and "lentils" in str(screen.item.rollout["text"])
        assert "1 / 1" in str(screen.query_one("#label-progress-text").render())
        assert "kind=regurgitation" in str(screen.query_one("#label-filters").render())


async def test_other_side_panel_and_never_in_blind_mode(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        other = app.screen.query_one("#label-other")
        assert str(other.render()) == ""
        await pilot.press("o")
        await pilot.pause()
        shown = str(other.render())
        assert "other side · base" in shown and "carrot" in shown  # the base's answer to the same prompt and seed
        await pilot.press("b")
        await pilot.pause()
        assert str(other.render()) == ""
        await pilot.press("o")  # refused while blind
        await pilot.pause()
        assert str(other.render()) == ""


def test_search_bad_regex_is_one_line(workbench: Workbench) -> None:
    from inspector.store import StoreError

    with pytest.raises(StoreError, match="bad search pattern"):
        Store.search(workbench.store, "(", regex=True)


async def test_a_filter_that_hides_everything_says_so(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="label")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LabelScreen)
        screen.filters = Filters(role="base", kind="term")  # the base never names PRISM-4 here
        screen._apply_filters()
        screen.show(0)
        await pilot.pause()
        assert "no item passes the filters" in str(screen.query_one("#label-meta").render())
        screen.filters = Filters()
        screen._apply_filters()
        screen.show(0)
        await pilot.pause()
        assert screen.item is not None and screen.queue is None
