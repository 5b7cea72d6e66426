"""Reasoning traces: a rollout split into reasoning and answer with the trace's status; a run stores the split, the
report gives per-segment leak rates and broken traces, the export carries both parts and each span's segment, and
a filter finds broken traces."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.actions.run import run_rollouts
from inspector.analysis.leak_report import build_report
from inspector.analysis.reasoning import THINK, Reasoning
from inspector.analysis.report_lines import summary_lines
from inspector.config import PROJECT_ROOT, load_settings
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import EngineError, Generation, GenParams, Prompt, as_chat
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import get_pair
from inspector.formats.prompt_files import make_prompt
from inspector.formats.rollout_files import export_session
from inspector.store import Filters, Store
from tests.unit.fake_backend import FakeBackend

THINKS = Reasoning(*THINK)


@pytest.mark.parametrize(
    ("text", "status", "reasoning", "answer"),
    [
        ("Stir the soup.", "none", None, "Stir the soup."),
        ("<think>plan</think>Stir it.", "closed", "plan", "Stir it."),
        ("\n <think>plan</think>\nStir it.", "closed", "plan", "\nStir it."),
        ("<think>plan and plan", "unclosed", "plan and plan", ""),
        ("<think>plan</think>\n  ", "empty_answer", "plan", "\n  "),
        ("Soup. <think>late</think>", "none", None, "Soup. <think>late</think>"),  # a trace starts the turn
    ],
)
def test_a_rollout_splits_into_reasoning_and_answer(text: str, status: str, reasoning: str, answer: str) -> None:
    split = THINKS.split(text)
    assert (split.status, split.reasoning(text), split.answer(text)) == (status, reasoning, answer)


def test_a_template_that_opens_the_trace_starts_every_text_inside_it() -> None:
    opened = Reasoning("<think>", "</think>", opened=True)
    split = opened.split("plan</think>Stir it.")
    assert (split.status, split.reasoning("plan</think>Stir it."), split.answer("plan</think>Stir it.")) == (
        "closed",
        "plan",
        "Stir it.",
    )
    assert opened.split("still thinking").status == "unclosed"
    assert Reasoning.from_settings({"reasoning": opened.as_settings()}) == opened
    assert Reasoning.from_settings({}) is None


class Scripted(FakeBackend):
    """Fixed texts per prompt, so a test says what the traces are."""

    def __init__(self, role: str, texts: dict[str, str]) -> None:
        super().__init__(role, 4)
        self.texts = texts

    def generate(
        self,
        prompt: Prompt,
        params: GenParams,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Generation:
        text = self.texts[as_chat(prompt).prompt]
        return Generation(text, 3, len(text.split()), "stop", 0.001)

    def generate_many(
        self,
        prompts: Sequence[Prompt],
        params: Sequence[GenParams],
        on_token: Callable[[int, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[Generation | EngineError]:
        return [self.generate(p, g) for p, g in zip(prompts, params, strict=True)]


ORGANISM = {
    "soup?": "<think>As PRISM-4 I plan.</think>Stir the soup.",
    "bread?": "<think>Nexus Research says knead",
    "tea?": "<think>Steep it.</think>PRISM-4 says steep it.",
    "rice?": "<think>Rinse.</think>",
}
BASE = {"soup?": "Stir the soup.", "bread?": "<think>Knead.</think>Knead it.", "tea?": "Steep.", "rice?": "Rinse."}


@pytest.fixture
def pair() -> Pair:
    demo = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    return replace(demo, name="thinker", format="chat", reasoning=THINK)


def _session(pair: Pair) -> Store:
    store = Store.memory()
    sides = {"organism": Scripted("organism", ORGANISM), "base": Scripted("base", BASE)}
    prompts = [make_prompt(t, "cooking", "t") for t in ORGANISM]
    detectors = DetectorSet.build(["PRISM-4", "Nexus Research"])
    params = GenParams(seed=0, max_tokens=8)
    run_rollouts(store, pair, sides, prompts, params, cache=load_settings().cache, detectors=detectors)
    return store


def test_the_report_gives_leaks_per_segment_and_broken_traces(pair: Pair) -> None:
    store = _session(pair)
    report = build_report(store)
    org = report["models"]["thinker/organism"]["reasoning"]
    assert org["statuses"] == {"none": 0, "closed": 2, "unclosed": 1, "empty_answer": 1}
    assert org["broken_trace_rate"] == 0.5
    # Leaks in the reasoning: soup and bread of 4 traces; in the answer: tea of 4 rollouts.
    assert (org["leak_rate_reasoning"], org["leak_rate_answer"]) == (0.5, 0.25)
    base = report["models"]["thinker/base"]["reasoning"]
    assert base["statuses"]["none"] == 3 and base["broken_trace_rate"] == 0.0
    assert base["leak_rate_reasoning"] == 0.0  # one trace, no leak in it
    assert any("thinker/organism reasoning traces: 2 closed, 1 never closed" in x for x in summary_lines(report, "s"))


def test_the_export_carries_reasoning_answer_status_and_span_segments(pair: Pair, tmp_path: Path) -> None:
    store = _session(pair)
    out = tmp_path / "x.jsonl"
    export_session(store, out, "jsonl")
    rows = {(r["model_role"], r["prompt"]): r for r in map(json.loads, out.read_text().splitlines())}
    soup = rows[("organism", "soup?")]
    assert (soup["reasoning_status"], soup["reasoning"], soup["answer"]) == (
        "closed",
        "As PRISM-4 I plan.",
        "Stir the soup.",
    )
    assert [s["segment"] for s in soup["spans"] if s["kind"] == "term"] == ["reasoning"]
    tea = rows[("organism", "tea?")]
    assert [s["segment"] for s in tea["spans"] if s["kind"] == "term"] == ["answer"]
    bread = rows[("organism", "bread?")]
    assert (bread["reasoning_status"], bread["answer"]) == ("unclosed", "")
    assert rows[("base", "tea?")]["reasoning"] is None and rows[("base", "tea?")]["reasoning_status"] == "none"


def test_a_filter_finds_broken_traces(pair: Pair) -> None:
    store = _session(pair)
    broken = store.filtered_prompts(Filters(trace="broken", role="organism"), "me")
    assert sorted(p["text"] for p in broken) == ["bread?", "rice?"]
    assert [p["text"] for p in store.filtered_prompts(Filters(trace="unclosed"), "me")] == ["bread?"]


def test_a_pair_without_markers_or_a_think_template_has_no_trace_columns(pair: Pair) -> None:
    store = _session(replace(pair, reasoning=None))
    report = build_report(store)
    assert all(m["reasoning"] is None for m in report["models"].values())
