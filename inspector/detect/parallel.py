"""Detection over many texts on every core: worker processes forked after the detectors are built share the
corpus index's arrays with the parent (copy-on-write), so a session-wide scan costs no second index build."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence

from inspector.detect.spans import Span

Detect = Callable[[str, str | None], list[Span]]
_DETECT: Detect | None = None  # what a forked worker runs: set in the parent just before the fork
_MIN_PER_WORKER = 250  # below this many texts each, starting workers costs more than it saves


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _run(chunk: Sequence[tuple[str, str | None]]) -> list[list[Span]]:
    assert _DETECT is not None
    return [_DETECT(text, prompt) for text, prompt in chunk]


def detect_all(detect: Detect, items: Sequence[tuple[str, str | None]], workers: int = 1) -> list[list[Span]]:
    """detect(text, prompt) for every item, in order; in `workers` forked processes when there are enough items
    and the platform forks (a caller with threads of its own, such as the app, passes 1: forking a threaded
    process is unsafe)."""
    workers = min(workers, len(items) // _MIN_PER_WORKER)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [detect(text, prompt) for text, prompt in items]
    global _DETECT
    _DETECT = detect
    try:
        size = -(-len(items) // (workers * 8))  # several chunks a worker, so one slow chunk idles no one long
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.map(_run, chunks)
    finally:
        _DETECT = None
    return [spans for chunk in done for spans in chunk]
