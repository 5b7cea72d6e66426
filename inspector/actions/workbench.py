"""The headless core the TUI sits on: one open session, its pair, lazily loaded models, labels and summary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspector.actions.rollouts import (
    chat_of,
    reasoning_for,
    register_models,
    rollout_seed,
    run_id_for,
    systems_of,
    trace_columns,
)
from inspector.config import Settings
from inspector.detect.detector_set import DetectorSet
from inspector.engine.base import Backend, Generation, GenParams
from inspector.engine.pair_spec import Pair
from inspector.engine.registry import open_pair
from inspector.formats.prompt_files import make_prompt, with_system
from inspector.store import PromptRow, Store, prompt_id

LEAK_KEYS = {"1": "nonsequitur", "2": "related", "3": "none"}


@dataclass
class QueueItem:
    """One rollout of a label queue, as the label screen shows it."""

    position: int
    total: int
    rollout: dict[str, Any]
    spans: list[dict[str, Any]]
    labels: dict[str, str | None]


class Workbench:
    """Everything the app does, minus the screen: each method is safe to call from a worker thread."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pair: Pair | None,
        labeler: str | None = None,
        backends: dict[str, Backend] | None = None,
        system: str | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        """`backends`: the pair's models already loaded (else they load on first use); `system`: the system prompt
        typed prompts are asked under (the command line's, else the pair's); `notify`: where a served side's
        lines about its replicas go (one leaving the fleet, one back), from any thread."""
        self.settings = settings
        self.store = store
        self.pair = pair
        self.labeler = labeler or settings.labeler
        self._backends: dict[str, Backend] = dict(backends or {})
        self._load_lock = threading.Lock()
        # Both sides generate in parallel threads; DuckDB's optimistic concurrency rejects two transactions
        # inserting the same model or run row at once, so writes go one at a time.
        self._write_lock = threading.Lock()
        self._detectors: DetectorSet | None = None
        self.system = system
        self.notify = notify

    # -- models --------------------------------------------------------------------------------
    def backends(self) -> dict[str, Backend]:
        """Load both models on first use (never at start-up: first paint must not wait for them)."""
        with self._load_lock:
            if not self._backends and self.pair is not None:
                self._backends = open_pair(self.pair, self.settings.cache, notify=self._notice)
            return self._backends

    def _notice(self, line: str) -> None:
        if self.notify is not None:
            self.notify(line)

    def detectors(self) -> DetectorSet | None:
        if self._detectors is None and self.pair is not None:
            self._detectors = DetectorSet.for_pair(self.pair, self.settings.cache)
        return self._detectors

    def close(self) -> None:
        for b in self._backends.values():
            b.close()
        self._backends.clear()

    # -- generation ------------------------------------------------------------------------------
    def add_prompt(self, text: str) -> PromptRow:
        """A typed prompt, under the current system prompt (part of its identity, as in a prompt file)."""
        row = with_system([make_prompt(text, None, "typed")], self.system)[0]
        self.store.upsert_prompts([row])
        return row

    def conditioned(self, prompt: PromptRow) -> PromptRow:
        """The prompt under the current system prompt (unchanged if it has its own, or there is none)."""
        return with_system([prompt], self.system)[0]

    def generate_one(
        self,
        role: str,
        prompt: PromptRow,
        params: GenParams,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[int | None, Generation]:
        """Generate one side for a prompt with the run seed's per-prompt seed, store it and its spans."""
        backends = self.backends()
        assert self.pair is not None
        with self._write_lock:
            model_ids = register_models(self.store, self.pair, backends)
            self.store.upsert_prompts([prompt])
            systems = systems_of([prompt])
            run_id = run_id_for(self.pair, model_ids, params, systems)
            settings = {
                **params.as_dict(),
                "samples": 1,
                "backend": "tui",
                "prompt_format": self.pair.format,
                "system_prompts": systems,
                "reasoning": (reasoning := reasoning_for(self.pair, backends)) and reasoning.as_settings(),
            }
            self.store.ensure_run(run_id, self.pair.name, settings)
        seed = rollout_seed(params.seed, prompt.id, 0)
        gen = backends[role].generate(
            chat_of(prompt), GenParams(seed, params.temperature, params.top_p, params.max_tokens), on_token, should_stop
        )
        if gen.finish_reason == "cancelled":
            return None, gen  # a partial text is not a rollout
        det = self.detectors()
        spans = det.detect(gen.text, prompt.text) if det is not None else []
        row = {
            "run_id": run_id,
            "prompt_id": prompt.id,
            "model_id": model_ids[role],
            "sample_index": 0,
            "seed": seed,
            "text": gen.text,
            "prompt_tokens": gen.prompt_tokens,
            "completion_tokens": gen.completion_tokens,
            "finish_reason": gen.finish_reason,
            "seconds": gen.seconds,
            **trace_columns(reasoning, gen.text),
        }
        with self._write_lock:
            rid = self.store.insert_rollout(row)
            if rid is not None and det is not None:
                self.store.replace_spans(rid, spans, det.versions)
        return rid, gen

    def spans_for_text(self, text: str, prompt: str) -> list[dict[str, Any]]:
        det = self.detectors()
        return [s.as_dict() for s in det.detect(text, prompt)] if det else []

    # -- labeling --------------------------------------------------------------------------------
    def queue_item(self, queue: str | None, position: int) -> QueueItem | None:
        total = self.store.queue_length(queue)
        if total == 0:
            return None
        position = max(0, min(position, total - 1))
        rid = self.store.queue_item(queue, position)
        if rid is None:
            return None
        rollout = self.store.rollout(rid)
        assert rollout is not None
        labels = self.store.current_labels(rid, self.labeler).get(self.labeler, {})
        return QueueItem(position, total, rollout, self.store.spans_for(rid), labels)

    def label(self, rollout_id: int, key: str, blind: bool) -> str:
        """Map a label key to an event and commit it; returns what was recorded."""
        if key in LEAK_KEYS:
            self.store.add_label(rollout_id, self.labeler, "leak", LEAK_KEYS[key], blind)
            return f"leak={LEAK_KEYS[key]}"
        if key == "q":
            current = self.store.current_labels(rollout_id, self.labeler).get(self.labeler, {}).get("quirk")
            value = "no" if current == "yes" else "yes"
            self.store.add_label(rollout_id, self.labeler, "quirk", value, blind)
            return f"quirk={value}"
        if key == "t":
            # Toggles against what the report uses now: the latest human verdict on the prompt, else the hint.
            rollout = self.store.rollout(rollout_id)
            assert rollout is not None
            current = self.store.current_labels(rollout_id, self.labeler).get(self.labeler, {}).get("topic")
            related = current == "related" if current else bool(rollout["related"])
            value = "unrelated" if related else "related"
            self.store.add_label(rollout_id, self.labeler, "topic", value, blind)
            return f"prompt topic={value}"
        raise ValueError(key)

    def note(self, rollout_id: int, text: str) -> None:
        self.store.add_label(rollout_id, self.labeler, "note", text)

    def undo(self) -> dict[str, Any] | None:
        return self.store.undo_last(self.labeler)


__all__ = ["LEAK_KEYS", "QueueItem", "Workbench", "prompt_id"]
