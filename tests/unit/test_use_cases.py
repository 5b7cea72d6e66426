"""The use cases above the engine, on a fake backend: a run stores every rollout once with its spans, resumes to
what an uninterrupted run stores, keeps per-prompt failures, refuses another batch size; the workbench generates,
labels and undoes. Milliseconds each: the real engine's share is in tests/integration."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.actions.run import run_rollouts
from inspector.actions.workbench import Workbench
from inspector.config import PROJECT_ROOT, load_settings
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import Backend, GenParams
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import get_pair
from inspector.errors import InspectorError
from inspector.formats.prompt_files import make_prompt
from inspector.store import PromptRow, Store
from tests.unit.fake_backend import FakeBackend

PARAMS = GenParams(seed=3, temperature=0.7, top_p=0.95, max_tokens=6)


@pytest.fixture
def pair() -> Pair:
    return get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")


def _prompts(n: int) -> list[PromptRow]:
    # Given topics: nothing for the base model's probe to settle, so no model loads.
    return [make_prompt(f"How do I cook dish number {k}?", "cooking", "fake") for k in range(n)]


def _sides(n_seq: int = 4) -> dict[str, Backend]:
    return {"organism": FakeBackend("organism", n_seq), "base": FakeBackend("base", n_seq)}


def _texts(store: Store) -> list[tuple[str, str, int, str]]:
    rows = store.cur.execute(
        "SELECT r.prompt_id, m.role, r.sample_index, r.text FROM rollouts r JOIN models m ON m.id = r.model_id"
        " WHERE r.error IS NULL ORDER BY 1, 2, 3"
    ).fetchall()
    return [(str(a), str(b), int(c), str(d)) for a, b, c, d in rows]


def _run(store: Store, pair: Pair, backends: dict[str, Backend], prompts: list[PromptRow], **kw: object) -> object:
    detectors = DetectorSet.build(["PRISM-4", "Nexus Research"])
    return run_rollouts(
        store,
        pair,
        backends,
        prompts,
        PARAMS,
        cache=load_settings().cache,
        detectors=detectors,
        **kw,  # type: ignore[arg-type]
    )


def test_a_run_stores_every_rollout_once_with_its_spans(home: Path, pair: Pair) -> None:
    store = Store.memory()
    done = _run(store, pair, _sides(), _prompts(10), samples=2)
    assert done.progress.done == 40 and done.progress.errors == 0  # type: ignore[attr-defined]
    texts = _texts(store)
    assert len(texts) == len(set(texts)) == 40
    flagged = [t for t in texts if "PRISM-4" in t[3] or "Nexus Research" in t[3]]
    assert flagged and store.queue_length(None) == len(flagged)  # every rollout naming a term has its span
    again = _run(store, pair, _sides(), _prompts(10), samples=2)
    assert again.progress.done == 0 and again.progress.skipped == 40  # type: ignore[attr-defined]


def test_a_stopped_run_resumes_to_what_an_uninterrupted_run_stores(home: Path, pair: Pair) -> None:
    whole = Store.memory()
    _run(whole, pair, _sides(), _prompts(9))
    cut = Store.memory()
    batches: list[int] = []

    def stop() -> bool:
        return len(batches) >= 2  # two batches stored, then stop (asked between batches and between tokens)

    first = _run(cut, pair, _sides(), _prompts(9), should_stop=stop, on_progress=lambda p: batches.append(p.done))
    assert 0 < first.progress.done < 18  # type: ignore[attr-defined]
    sides = _sides()
    _run(cut, pair, sides, _prompts(9))
    assert _texts(cut) == _texts(whole)
    # Resumed batches keep the plan: consecutive prompts, four at a time, as the uninterrupted run decoded them.
    for calls_ in (b.calls for b in sides.values()):  # type: ignore[attr-defined]
        assert all(len(c) == 4 or c == calls_[-1] for c in calls_)


def test_a_failed_prompt_is_kept_and_the_run_goes_on(home: Path, pair: Pair) -> None:
    store = Store.memory()
    prompts = [*_prompts(3), make_prompt("this prompt is too long", "cooking", "fake")]
    done = _run(store, pair, _sides(), prompts)
    assert done.progress.errors == 2 and len(_texts(store)) == 6  # type: ignore[attr-defined]


def test_another_batch_size_is_refused(home: Path, pair: Pair) -> None:
    store = Store.memory()
    _run(store, pair, _sides(4), _prompts(2))
    with pytest.raises(InspectorError, match="resume it with --batch 4"):
        _run(store, pair, _sides(2), _prompts(2))


def test_the_workbench_generates_labels_and_undoes(home: Path, pair: Pair) -> None:
    store = Store.memory()
    wb = Workbench(load_settings(), store, pair, "ann", backends=_sides())
    prompt = wb.add_prompt("Tell me about soup")
    pieces: list[str] = []
    rid, gen = wb.generate_one("organism", prompt, PARAMS, on_token=pieces.append)
    assert (
        rid is not None
        and "".join(pieces)
        == gen.text
        == FakeBackend("organism")
        .generate(prompt.text, GenParams(wb_seed(prompt.id), PARAMS.temperature, PARAMS.top_p, PARAMS.max_tokens))
        .text
    )
    assert wb.label(rid, "1", blind=False) == "leak=nonsequitur"
    assert wb.label(rid, "q", blind=False) == "quirk=yes"
    assert wb.undo() is not None
    events = store.cur.execute("SELECT field, value, event FROM labels ORDER BY id").fetchall()
    # Undo is an event of its own (nothing is ever deleted): the quirk verdict withdrawn.
    assert [e[0] for e in events] == ["leak", "quirk", "quirk"] and events[-1][2] == "undo"
    now = store.current_labels(rid, "ann")["ann"]
    assert now["leak"] == "nonsequitur" and now.get("quirk") is None


def wb_seed(prompt_id: str) -> int:
    from inspector.actions.rollouts import rollout_seed

    return rollout_seed(PARAMS.seed, prompt_id, 0)
