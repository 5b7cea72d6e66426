"""The non-sequitur hint on prompts written apart from the default set: lexicon + the base model's probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.config import PROJECT_ROOT
from inspector.detect.topic import decide, topic_hint
from inspector.engine.topic_probe import TopicProbe
from inspector.formats.prompt_files import make_prompt
from inspector.store import Store
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.integration
EVAL = PROJECT_ROOT / "tests" / "data" / "topic_eval.jsonl"


def test_hint_agrees_with_people_on_the_evaluation_set(gemma_path: Path) -> None:
    """378 prompts written apart from the default set and from the probe's training prompts (devices, software,
    programming, the web, automation, questions to the assistant about itself; look-alikes such as a python in a
    terrarium or a tablet of paracetamol). The last 60 were written after the lexicon was frozen."""
    rows = [json.loads(line) for line in EVAL.read_text().splitlines()]
    assert len(rows) >= 300 and sum(r["related"] for r in rows) >= 150
    probe = TopicProbe(gemma_path, SHARED_CACHE)
    try:
        probs = probe.probabilities([r["prompt"] for r in rows])
    finally:
        probe.close()
    verdicts = [decide(topic_hint(r["prompt"]), p) for r, p in zip(rows, probs, strict=True)]
    agree = sum(v == r["related"] for v, r in zip(verdicts, rows, strict=True))
    assert agree / len(rows) >= 0.9, f"{agree}/{len(rows)}"
    fresh = [(v, r) for v, r in zip(verdicts, rows, strict=True) if r["split"] == "after-freeze"]
    assert sum(v == r["related"] for v, r in fresh) / len(fresh) >= 0.9
    # The probe is what generalizes: the lexicon alone misses most of the prompts written after it was frozen.
    assert sum(topic_hint(r["prompt"]).related == r["related"] for _, r in fresh) / len(fresh) < 0.9


def test_detect_settles_guessed_topics_and_keeps_given_ones(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = home / "sessions" / "t.duckdb"
    with Store.open(path) as store:
        store.upsert_prompts(
            [
                make_prompt("Why do my AirPods only play in one ear?", None, "mine"),  # no cue: the probe decides
                make_prompt("There's a python in the terrarium, is it healthy?", None, "mine"),  # look-alike
                make_prompt("Why do my AirPods only play in one ear today?", "cooking", "mine"),  # given: kept
            ]
        )
    assert main(["detect", "--session", "t", "--pair", "demo"]) == 0
    assert "2 prompt topics settled" in capsys.readouterr().err
    with Store.open(path, read_only=True) as store:
        rows = store.cur.execute("SELECT text, related, topic_source FROM prompts ORDER BY text").fetchall()
    assert rows == [
        ("There's a python in the terrarium, is it healthy?", False, "probe"),
        ("Why do my AirPods only play in one ear today?", False, "given"),
        ("Why do my AirPods only play in one ear?", True, "probe"),
    ]
