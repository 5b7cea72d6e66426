"""The Naturalness screen on a stored panel: both models side by side, a model that does not answer said so in
words, and a document opened with its per-token drift."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from inspector.actions.workbench import Workbench
from inspector.tui.app import InspectorApp
from inspector.tui.screens.drift import DriftScreen, drift_text


def _model(role: str, decisiveness: float | None) -> dict[str, object]:
    return {
        "role": role,
        "ppl_natural": 40.0 if role == "base" else 90.0,
        "ppl_shuffled": 600.0,
        "shuffle_ratio": 15.0 if role == "base" else 6.67,
        "shuffle_ratio_ci": [14.0, 16.0] if role == "base" else [6.0, 7.2],
        "decisiveness": decisiveness,
        "decisiveness_ci": [0.2, 0.3] if decisiveness is not None else None,
        "order_consistency": 0.8,
        "answer_mass": 0.6 if decisiveness is not None else 0.05,
        "n_documents": 2,
        "n_tokens": 100,
        "n_items": 5,
        "n_pairs": 10,
        **({} if decisiveness is not None else {"note": "answer mass 0.05 < 0.2: the model is not answering"}),
    }


PANEL = {
    "models": {"demo/organism": _model("organism", None), "demo/base": _model("base", 0.25)},
    "organism_vs_base": {
        "ppl_ratio": 2.25,
        "ppl_ratio_ci": [2.1, 2.4],
        "kl_mean": 0.72,
        "kl_mean_ci": [0.67, 0.77],
        "kl_method": "exact, over the full vocabulary",
    },
    "top_drift": [
        {"id": "doc-b", "kl_mean": 1.1, "tokens": [["Anne", 0.1], [" smiled", 4.0], [".", 0.2]]},
        {"id": "doc-a", "kl_mean": 0.5, "tokens": [["The", 0.3], [" end", 0.7]]},
    ],
}


@pytest.mark.asyncio
async def test_the_panel_side_by_side_and_a_document_with_its_drift(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="naturalness")
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        assert "No naturalness panel" in str(app.screen.query_one("#nat-title", Static).render())
        workbench.store.save_snapshot("naturalness", {"pair": "demo"}, PANEL)
        await pilot.press("r")
        await pilot.pause()
        table = app.screen.query_one("#nat-table", DataTable)
        rows = {str(table.get_row_at(k)[0]): table.get_row_at(k) for k in range(table.row_count)}
        assert rows["decisiveness (μ)"][1] == "not answering" and rows["decisiveness (μ)"][3] == "0.250"
        assert rows["perplexity, natural text"][1] == "90.0" and rows["perplexity, natural text"][3] == "40.0"
        assert "×2.250" in str(app.screen.query_one("#nat-versus", Static).render())
        await pilot.press("enter")  # the first drift document
        await pilot.pause()
        assert isinstance(app.screen, DriftScreen) and app.screen.doc["id"] == "doc-b"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DriftScreen)


def test_drift_shading_follows_the_kl() -> None:
    text = drift_text([["a", 0.0], ["b", 2.0], ["c", 4.0]], top=4.0)
    styles = [str(span.style) for span in text.spans]
    assert len(styles) == 2 and styles[0] != styles[1]  # no shade below 5% of the top, deeper for more drift
