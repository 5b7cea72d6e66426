"""Time to first token and tokens per second of one streaming completion, as its pane shows them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class StreamSpeed:
    """Timestamps come from the worker that receives the tokens (time.perf_counter there), so the UI thread's
    message latency does not count against the engine."""

    started: float = field(default_factory=time.perf_counter)
    first: float | None = None
    last: float | None = None
    pieces: int = 0

    def add(self, at: float) -> None:
        if self.first is None:
            self.first = at
        self.last = at
        self.pieces += 1

    def describe(self) -> str:
        """ "first token 0.42 s · 18.3 tok/s": the rate is over the pieces after the first, which the prompt's
        processing does not delay."""
        if self.first is None or self.last is None:
            return "waiting for the first token"
        out = f"first token {self.first - self.started:.2f} s"
        if self.pieces > 1 and self.last > self.first:
            out += f" · {(self.pieces - 1) / (self.last - self.first):.1f} tok/s"
        return out
