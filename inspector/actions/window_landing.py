"""One window of a run's rollouts into the store, a continuous side's as its sequences end."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from inspector.engine.base import EngineError, Generation
from inspector.engine.openai_http import EndpointDown
from inspector.store import PromptRow

if TYPE_CHECKING:
    from inspector.actions.rollouts import Landed, Progress

EARLY_STORE_SECONDS = 1.0  # how often a continuous side's finished rollouts are stored while its window runs


class WindowLanding:
    """One window's rollouts into the store. A continuous side's are stored as their sequences end, a few times a
    second, rather than when the whole window does: a resumed run redoes an unfinished window whole and keeps only
    what is missing, so what is stored early is what the uninterrupted window stores."""

    def __init__(
        self,
        role: str,
        chunk: Sequence[tuple[PromptRow, int]],
        missing: set[int],
        seeds: Sequence[int],
        record: Callable[[Sequence[Landed]], None],
        prog: Progress,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.role, self.chunk, self.missing, self.seeds = role, chunk, missing, seeds
        self.record, self.prog, self.on_progress = record, prog, on_progress
        self.early: list[Landed] = []
        self.stored: set[int] = set()
        self.mark = time.perf_counter()

    def _flush(self, landed: list[Landed]) -> None:
        now = time.perf_counter()
        self.prog.seconds += now - self.mark
        self.mark = now
        self.record(landed)
        self.early = []

    def ended(self, k: int, gen: Generation) -> None:
        """A sequence of the window has ended (called from the decode loop, on the runner's thread)."""
        if k in self.missing and gen.finish_reason != "cancelled":
            self.early.append((self.chunk[k][0], self.chunk[k][1], self.role, self.seeds[k], gen))
            self.stored.add(k)
        if self.early and time.perf_counter() - self.mark >= EARLY_STORE_SECONDS:
            self._flush(self.early)
            if self.on_progress is not None:
                self.on_progress(self.prog)

    def store_rest(self, gens: Sequence[Generation | EngineError]) -> None:
        """The window is over: everything missing that was not stored yet (failures included)."""
        rest = [
            (p, s, self.role, seed, gen)
            for k, ((p, s), seed, gen) in enumerate(zip(self.chunk, self.seeds, gens, strict=True))
            if k in self.missing and k not in self.stored and not isinstance(gen, EndpointDown)
        ]
        self._flush(self.early + rest)
