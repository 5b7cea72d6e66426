"""Label events: append-only, undo as a new event (stack order), current values, queues."""

from __future__ import annotations

import pytest

from inspector.store import PromptRow, Store, prompt_id


def _store_with_rollouts(n: int = 3) -> tuple[Store, list[int]]:
    s = Store.memory()
    s.upsert_prompts([PromptRow(prompt_id("p"), "p")])
    mid = s.upsert_model({"role": "organism", "sha256": "a", "name": "o"})
    s.ensure_run("r", "demo", {})
    ids = []
    for i in range(n):
        rid = s.insert_rollout(
            {"run_id": "r", "prompt_id": prompt_id("p"), "model_id": mid, "sample_index": i, "text": f"t{i}"}
        )
        assert rid is not None
        ids.append(rid)
    return s, ids


def test_undo_restores_previous_value_in_stack_order() -> None:
    s, (r1, r2, _) = _store_with_rollouts()
    s.add_label(r1, "ann", "leak", "nonsequitur")
    s.add_label(r1, "ann", "leak", "none")
    s.add_label(r2, "ann", "quirk", "yes")
    assert s.current_labels(r1) == {"ann": {"leak": "none"}}
    assert s.undo_last("ann") == {"rollout_id": r2, "field": "quirk", "value": None}
    assert s.undo_last("ann") == {"rollout_id": r1, "field": "leak", "value": "nonsequitur"}
    assert s.current_labels(r1)["ann"]["leak"] == "nonsequitur"
    assert s.undo_last("ann") == {"rollout_id": r1, "field": "leak", "value": None}
    assert s.undo_last("ann") is None
    events = s.label_events()
    assert [e[5] for e in events] == ["set", "set", "set", "undo", "undo", "undo"]  # nothing deleted


def test_labelers_are_separate_and_values_checked() -> None:
    s, (r1, *_) = _store_with_rollouts()
    s.add_label(r1, "ann", "leak", "related")
    s.add_label(r1, "bob", "leak", "none")
    assert s.undo_last("bob") is not None
    assert s.current_labels(r1) == {"ann": {"leak": "related"}, "bob": {"leak": None}}
    with pytest.raises(ValueError):
        s.add_label(r1, "ann", "leak", "maybe")
    with pytest.raises(ValueError):
        s.add_label(r1, "ann", "colour", "red")


def test_flagged_queue_pages_by_position() -> None:
    from inspector.detect.spans import Span

    s, ids = _store_with_rollouts(3)
    s.replace_spans(ids[0], [Span("term", 0, 2, "t0", 100.0, "X")], {"term": "terms-1"})
    s.replace_spans(ids[2], [Span("term", 0, 2, "t2", 100.0, "X")], {"term": "terms-1"})
    assert s.queue_length(None) == 2
    assert [s.queue_item(None, i) for i in range(3)] == [ids[0], ids[2], None]
    s.add_label(ids[2], "ann", "leak", "none")
    assert s.labeled_count(None, "ann") == 1
