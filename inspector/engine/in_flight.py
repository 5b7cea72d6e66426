"""Many calls in flight at once with no barrier between them: each result as it finishes, with its index."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator
from typing import TypeVar

T = TypeVar("T")


def unordered(
    call: Callable[[int, Callable[[], bool]], T],
    count: int,
    width: int,
    should_stop: Callable[[], bool] | None = None,
) -> Generator[tuple[int, T], None, None]:
    """`call(i, halted)` for i in range(count), `width` at a time on worker threads; (i, result) as each returns.
    A call is given `halted` to check (the caller's should_stop, or the generator closed): once it is true no
    new call starts. Closing the generator (or leaving a loop over it) halts the rest."""
    stop = threading.Event()

    def halted() -> bool:
        return stop.is_set() or (should_stop is not None and should_stop())

    todo = iter(range(count))
    take = threading.Lock()
    # Bounded: when the caller handles results slower than they come, the workers wait instead of piling them up.
    out: queue.Queue[tuple[int, T] | None] = queue.Queue(maxsize=2 * max(1, width))

    def put(item: tuple[int, T] | None) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def worker() -> None:
        try:
            while not halted():
                with take:
                    i = next(todo, None)
                if i is None:
                    return
                put((i, call(i, halted)))
        finally:
            put(None)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(width, count)))]
    for w in workers:
        w.start()
    try:
        alive = len(workers)
        while alive:
            got = out.get()
            if got is None:
                alive -= 1
            else:
                yield got
    finally:
        stop.set()
