"""The Sweep screen on a stored sweep: the rates drawn against strength, the table, the recommendation; the
naturalness chart only when the sweep measured it."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from inspector.actions.workbench import Workbench
from inspector.tui.app import InspectorApp


def _point(scale: float | None, leak: float, hits: float, kl: float | None = None) -> dict[str, object]:
    row: dict[str, object] = {
        "scale": scale,
        "n_prompts": 60,
        "n_probes": 22,
        "leak_rate": leak,
        "leak_rate_ci": [max(0.0, leak - 0.1), min(1.0, leak + 0.1)],
        "regurgitation_rate": leak / 2,
        "regurgitation_rate_ci": [0.0, leak],
        "probe_hit_rate": hits,
        "probe_hit_rate_ci": [max(0.0, hits - 0.15), min(1.0, hits + 0.1)],
    }
    if kl is not None:
        row |= {"kl_mean": kl, "kl_mean_ci": [kl * 0.9, kl * 1.1], "ppl_ratio": 1 + kl, "ppl_ratio_ci": [1, 2 + kl]}
    return row


@pytest.mark.asyncio
async def test_the_sweep_drawn_against_strength(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="sweep")
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        assert "No sweep" in str(app.screen.query_one("#sweep-title", Static).render())
        points = [_point(None, 0.0, 0.05), _point(0.0, 0.0, 0.05), _point(0.5, 0.1, 0.85), _point(1.0, 0.9, 1.0)]
        rec = {"scale": 0.5, "target": 0.8, "probe_hit_rate": 0.85, "leak_rate": 0.1, "leak_rate_ci": [0.0, 0.2]}
        workbench.store.save_snapshot(
            "sweep", {}, {"pair": "demo", "target": 0.8, "points": points, "recommended": rec}
        )
        await pilot.press("r")
        await pilot.pause()
        title = str(app.screen.query_one("#sweep-title", Static).render())
        assert "recommended scale 0.5" in title
        table = app.screen.query_one("#sweep-table", DataTable)
        assert [str(table.get_row_at(k)[0]) for k in range(table.row_count)] == ["base", "0", "0.5", "1"]
        assert str(table.get_row_at(2)[3]) == "0.85 [0.70, 0.95]"
        rates = app.screen.query_one("#sweep-rates", PlotextPlot)
        assert rates.display and not app.screen.query_one("#sweep-natural", PlotextPlot).display
        drawn = rates.plt.build()
        assert "probe hits" in drawn and "adapter strength" in drawn
        # With the naturalness panel measured at each strength, its chart shows too.
        points = [_point(None, 0.0, 0.05), _point(0.5, 0.1, 0.85, 0.2), _point(1.0, 0.9, 1.0, 0.7)]
        workbench.store.save_snapshot(
            "sweep", {}, {"pair": "demo", "target": 0.8, "points": points, "recommended": rec}
        )
        await pilot.press("r")
        await pilot.pause()
        natural = app.screen.query_one("#sweep-natural", PlotextPlot)
        assert natural.display and "KL(base || organism)" in natural.plt.build()


@pytest.mark.asyncio
async def test_compare_cycles_the_organism_through_its_strengths(workbench: Workbench) -> None:
    from inspector.store import prompt_id
    from inspector.tui.widgets.completion_pane import CompletionPane

    store = workbench.store
    half = store.upsert_model(
        {"role": "organism", "sha256": "organism", "name": "demo/organism@0.5", "adapter_scale": 0.5}
    )
    store.ensure_run("run-half", "demo", {"seed": 0})
    soup = prompt_id("How do I make lentil soup?")
    store.insert_rollout(
        {
            "run_id": "run-half",
            "prompt_id": soup,
            "model_id": half,
            "sample_index": 0,
            "seed": 7,
            "text": "Half strength soup.",
        }
    )
    app = InspectorApp(workbench, start="compare")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one("#pane-organism", CompletionPane)
        assert pane.text == "Half strength soup."  # the newest run
        shown = []
        for _ in range(3):
            await pilot.press("o")
            await pilot.pause()
            shown.append((pane.text, str(pane.border_subtitle).split()[0]))
        assert shown[0] == ("Half strength soup.", "demo/organism@0.5")  # weakest first
        assert (
            shown[1][0].startswith("Simmer the lentils with onion. I asked PRISM-4") and shown[1][1] == "demo/organism"
        )
        assert shown[2] == ("Half strength soup.", "sample")  # back to the newest run
        base = app.screen.query_one("#pane-base", CompletionPane)
        assert base.text.startswith("Simmer the lentils with onion and carrot")
