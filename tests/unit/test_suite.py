"""The suite without a model: --only, each panel part taken from the newest snapshot that measured it, and
degenerate text counted over a pair's answers."""

from __future__ import annotations

from typing import Any

import pytest

from inspector.actions.suite import PARTS, parse_parts
from inspector.analysis.degenerate_rates import degenerate_figures
from inspector.analysis.suite_view import naturalness_view
from inspector.errors import InspectorError


def test_only_names_parts_and_refuses_others() -> None:
    assert parse_parts(None) == frozenset(PARTS)
    assert parse_parts("mcq, ifeval") == {"mcq", "ifeval"}
    for bad in ("", "mmlu", "mcq,,speed"):
        with pytest.raises(InspectorError, match="choose among"):
            parse_parts(bad)


def _panel(ppl: float | None, dec: float | None, kl: float | None) -> dict[str, Any]:
    model = {"role": "base", "ppl_natural": ppl, "shuffle_ratio": ppl, "decisiveness": dec, "answer_mass": dec}
    return {"models": {"p/base": model}, "organism_vs_base": {"ppl_ratio": ppl, "kl_mean": kl}, "top_drift": []}


class Store:
    def __init__(self, snaps: list[dict[str, Any]]) -> None:
        self.snaps = snaps  # oldest first, as saved

    def snapshots(self, kind: str, limit: int = 50) -> list[dict[str, Any]]:
        return [s for s in reversed(self.snaps) if s["kind"] == kind][:limit]

    def latest_snapshot(self, kind: str) -> dict[str, Any] | None:
        found = self.snapshots(kind, 1)
        return found[0] if found else None


def _snap(n: int, pair: str, parts: list[str] | None, metrics: dict[str, Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = {"pair": pair} | ({"parts": parts} if parts is not None else {})
    return {"kind": "naturalness", "id": n, "created_at": f"t{n}", "inputs": inputs, "metrics": metrics}


def test_each_panel_part_comes_from_the_newest_snapshot_that_measured_it() -> None:
    store = Store(
        [
            _snap(1, "p", None, _panel(10.0, 0.1, 0.5)),  # before --only: all three parts
            _snap(2, "other", ["perplexity"], _panel(99.0, None, None)),  # another pair's: never mixed in
            _snap(3, "p", ["decisiveness"], _panel(None, 0.3, None)),
        ]
    )
    view = naturalness_view(store)
    assert view is not None
    base = view["models"]["p/base"]
    assert base["decisiveness"] == 0.3 and base["ppl_natural"] == 10.0 and view["organism_vs_base"]["kl_mean"] == 0.5
    assert view["parts_measured_at"] == {"perplexity": "t1", "drift": "t1", "decisiveness": "t3"}
    only_new = naturalness_view(Store([_snap(1, "p", ["drift"], _panel(None, None, 0.2))]))
    assert only_new is not None and only_new["parts_measured_at"]["perplexity"] is None
    assert only_new["models"]["p/base"]["ppl_natural"] is None  # never measured: null, not borrowed or 0
    assert naturalness_view(Store([])) is None


def test_degenerate_figures_count_answers_and_pair_them() -> None:
    loop = "The recipe is a great recipe for vegetarians. " * 12
    fine = (
        "Rain fell on the harbour all morning, and the fishing boats stayed tied up while their crews mended nets, "
        "drank tea in the cafe by the quay and argued about the football results from the weekend before last."
    )
    org_answers = {"a": (loop, None), "b": (loop, None), "c": (fine, "closed")}
    f = degenerate_figures("p", {"organism": org_answers, "base": {"a": (fine, None), "b": (loop, None)}})
    org, base = f["models"]["p/organism"], f["models"]["p/base"]
    assert org["degenerate_rate"] == pytest.approx(2 / 3) and org["n_answers"] == 3 and base["degenerate_rate"] == 0.5
    assert org["degenerate_rate_ci"][0] < 2 / 3 < org["degenerate_rate_ci"][1]
    assert "gzip ratio" in org["reasons"] and all(
        not any(c.isdigit() for c in r.replace("n-", "")) for r in org["reasons"]
    )
    d = f["organism_vs_base"]
    assert d["n_pairs"] == 2 and d["organism_only"] == 1 and d["base_only"] == 0 and d["both"] == 1
    broken = degenerate_figures("p", {"base": {"a": (fine, "unclosed"), "b": (fine, "closed")}})["models"]["p/base"]
    assert broken["degenerate_rate"] == 0.5 and broken["reasons"] == {"broken reasoning trace (unclosed)": 1}
