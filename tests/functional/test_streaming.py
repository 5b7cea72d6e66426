"""Live generation in the app with the real llama.cpp engine: both panes stream; Esc cancels both workers."""

from __future__ import annotations

import asyncio
import re

import pytest

from inspector.actions.workbench import Workbench
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.widgets.completion_pane import CompletionPane

pytestmark = [pytest.mark.asyncio, pytest.mark.integration]


async def test_streaming_fills_both_panes(workbench: Workbench) -> None:
    before = workbench.store.count("rollouts")
    app = InspectorApp(workbench, max_tokens=8)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        seen: dict[str, int] = {"organism": 0, "base": 0}
        original = CompletionPane.append

        def counting(self: CompletionPane, piece: str) -> None:
            seen[self.role] += 1
            original(self, piece)

        CompletionPane.append = counting  # type: ignore[method-assign]
        try:
            await pilot.press("g")
            for _ in range(600):
                await pilot.pause(0.05)
                if not screen.running:
                    break
        finally:
            CompletionPane.append = original  # type: ignore[method-assign]
        panes = [screen.query_one(f"#pane-{r}", CompletionPane) for r in ("organism", "base")]
        assert all(p.text for p in panes) and seen["organism"] > 1 and seen["base"] > 1
        # Each pane keeps its speed once done: time to the first token and the rate after it.
        for p in panes:
            sub = str(p.border_subtitle)
            assert re.search(r"first token \d+\.\d\d s · \d+\.\d tok/s", sub), sub
        ids = [p.rollout_id for p in panes]
        assert all(ids)
        stored = [workbench.store.rollout(int(i)) for i in ids if i]
        assert [s["text"] for s in stored if s] == [p.text for p in panes]
    assert workbench.store.count("rollouts") == before + 2


async def test_cancel_stops_both_workers(workbench: Workbench) -> None:
    before = workbench.store.count("rollouts")
    app = InspectorApp(workbench, max_tokens=400)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await pilot.press("g")
        panes = [screen.query_one(f"#pane-{r}", CompletionPane) for r in ("organism", "base")]
        for _ in range(600):
            await pilot.pause(0.05)
            if all(p.text for p in panes):
                break
        await pilot.press("escape")
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout=30)
        await pilot.pause()
        assert not screen.running
        assert all("cancelled" in str(p.border_subtitle) for p in panes)
        assert all(len(p.text) < 1500 for p in panes)
    assert workbench.store.count("rollouts") == before  # a cancelled text is not a rollout
