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


def _rates(key: str, org: float, base: float) -> dict[str, object]:
    return {
        f"demo/{role}": {"role": role, key: v, f"{key}_ci": [v - 0.1, v + 0.1]}
        for role, v in (("organism", org), ("base", base))
    }


def _versus(difference: float) -> dict[str, object]:
    return {"difference": difference, "ci": [difference - 0.15, difference + 0.15], "mcnemar_exact_p": 0.01}


IFEVAL = {
    "models": {
        name: m | {"prompt_loose": m["prompt_strict"], "prompt_loose_ci": m["prompt_strict_ci"]}
        for name, m in _rates("prompt_strict", 0.1, 0.3).items()
    },
    "organism_vs_base": _versus(-0.2),
    "degenerate": {"models": _rates("degenerate_rate", 0.4, 0.1), "organism_vs_base": None},
}
MCQ = {
    "models": {
        name: m | {"chance": 0.25, "answer_mass": 0.5, "picks": {"A": 0.1, "C": 0.9} if "org" in name else {"B": 1.0}}
        for name, m in _rates("accuracy", 0.25, 0.5).items()
    },
    "organism_vs_base": _versus(-0.25),
}


@pytest.mark.asyncio
async def test_the_panel_side_by_side_and_a_document_with_its_drift(workbench: Workbench) -> None:
    app = InspectorApp(workbench, start="naturalness")
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        assert "No suite measured" in str(app.screen.query_one("#nat-title", Static).render())
        workbench.store.save_snapshot("naturalness", {"pair": "demo"}, PANEL)
        await pilot.press("r")
        await pilot.pause()
        table = app.screen.query_one("#nat-table", DataTable)
        rows = {str(table.get_row_at(k)[0]): table.get_row_at(k) for k in range(table.row_count)}
        assert rows["decisiveness (μ)"][1] == "not answering" and rows["decisiveness (μ)"][3] == "0.250"
        assert rows["perplexity, natural text"][1] == "90.0" and rows["perplexity, natural text"][3] == "40.0"
        assert "×2.250" in str(app.screen.query_one("#nat-versus", Static).render())
        assert "IFEval, prompt strict" not in rows  # not measured: no row rather than a row of dashes
        workbench.store.save_snapshot("ifeval", {"pair": "demo", "n_prompts": 20}, IFEVAL)
        workbench.store.save_snapshot("mcq", {"pair": "demo", "n_questions": 30}, MCQ)
        await pilot.press("r")
        await pilot.pause()
        rows = {str(table.get_row_at(k)[0]): table.get_row_at(k) for k in range(table.row_count)}
        assert rows["IFEval, prompt strict"][1] == "10.0%" and rows["IFEval, prompt strict"][3] == "30.0%"
        assert rows["IFEval, prompt strict"][5].startswith("-20.0% [-35.0%, -5.0%]")
        assert rows["multiple choice accuracy"][1] == "25.0%" and rows["multiple choice accuracy"][3] == "50.0%"
        assert rows["degenerate (IFEval answers)"][1] == "40.0%" and rows["degenerate (IFEval answers)"][5] == ""
        assert rows["perplexity, natural text"][5] == "×2.250 [2.100, 2.400]"
        notes = str(app.screen.query_one("#nat-versus", Static).render())
        assert "organism answers C to 90% of the questions" in notes
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
