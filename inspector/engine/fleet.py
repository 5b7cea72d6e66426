"""Replicas of one served model: requests go to the least busy, a replica that stops answering is taken out and
tried again later, and the requests in flight back off when a server says it is overloaded (429/503)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Notify = Callable[[str], None]

# How long a replica that failed stays out: doubling from the backoff with each failure in a row, up to this.
MAX_COOL = 30.0
# After an overload the limit is not cut again for this long: one burst of 429s is one signal, not fifty.
CUT_SPACING = 1.0


@dataclass
class Replica:
    """One server of the fleet, and what the fleet knows of it."""

    url: str
    outstanding: int = 0
    failures: int = 0  # in a row; 0 while it answers
    down_until: float = 0.0  # taken out until then (monotonic clock); 0 while it is in


@dataclass(frozen=True)
class Load:
    """What a progress line shows of a side's requests."""

    in_flight: int
    limit: int
    ceiling: int
    retries: int


class Fleet:
    """The replicas of a side and the adaptive cap on its requests in flight (all methods are thread-safe)."""

    def __init__(self, urls: Sequence[str], ceiling: int, backoff: float, notify: Notify | None = None) -> None:
        self.replicas = [Replica(u) for u in urls]
        self.ceiling, self.backoff = ceiling, backoff
        self.notify = notify or (lambda _line: None)
        self.retries = 0
        self._window = float(ceiling)  # the current cap, as a float so it can climb by fractions
        self._in_flight = 0
        self._last_cut = -CUT_SPACING
        self._cond = threading.Condition()

    # -- the cap on requests in flight ------------------------------------------------------------------------------
    @property
    def limit(self) -> int:
        return max(1, int(self._window))

    def acquire(self, should_stop: Callable[[], bool] | None = None) -> bool:
        """Wait for room under the cap; False when stopped while waiting."""
        with self._cond:
            while self._in_flight >= self.limit:
                if should_stop is not None and should_stop():
                    return False
                self._cond.wait(0.2)
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    def overloaded(self) -> None:
        """A server refused for load: halve the cap (once per burst), as TCP halves its window on a loss."""
        with self._cond:
            self.retries += 1
            now = time.monotonic()
            if now - self._last_cut >= CUT_SPACING:
                self._window = max(1.0, min(self._window, float(self._in_flight)) / 2)
                self._last_cut = now

    def succeeded(self) -> None:
        """A finished request: the cap climbs by one for every `limit` of them, back to the ceiling."""
        with self._cond:
            if self._window < self.ceiling:
                self._window = min(float(self.ceiling), self._window + 1 / self._window)
                self._cond.notify()

    # -- the replicas ---------------------------------------------------------------------------------------------
    def pick(self) -> tuple[Replica, float]:
        """The replica to send to, counted as busy with one more request, and how long to wait before sending:
        0 for the least busy of those in, else (none is in) the time until the one due soonest is tried again."""
        with self._cond:
            now = time.monotonic()
            up = [r for r in self.replicas if r.down_until <= now]
            if up:
                chosen, wait = min(up, key=lambda r: r.outstanding), 0.0
            else:
                chosen = min(self.replicas, key=lambda r: r.down_until)
                wait = chosen.down_until - now
            chosen.outstanding += 1
            return chosen, wait

    def done(self, replica: Replica) -> None:
        with self._cond:
            replica.outstanding -= 1

    def answered(self, replica: Replica) -> None:
        with self._cond:
            back = replica.failures > 0
            replica.failures, replica.down_until = 0, 0.0
        if back:
            self.notify(f"{replica.url}: answering again, back in the fleet")

    def failed(self, replica: Replica, reason: object) -> None:
        """The replica did not answer: out for a while (longer each time in a row)."""
        with self._cond:
            self.retries += 1
            now = time.monotonic()
            was_in = replica.down_until <= now and replica.failures == 0
            replica.failures += 1
            cool = min(MAX_COOL, self.backoff * 2 ** (replica.failures - 1))
            replica.down_until = now + cool
        if was_in:
            # One line when it leaves, one when it is back: not one per request that found it gone.
            self.notify(f"{replica.url}: stopped answering ({reason}); taken out of the fleet, tried again later")

    def load(self) -> Load:
        with self._cond:
            return Load(self._in_flight, self.limit, self.ceiling, self.retries)
