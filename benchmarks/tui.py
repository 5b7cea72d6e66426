"""App responsiveness on a 100,000-rollout session, driven headless with Pilot (no model is loaded).

Prints the first paint time and the p95 time from a navigation or label key to the rendered next item,
with the same figures for a 1,000-rollout session measured in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from inspector.actions.workbench import Workbench
from inspector.config import PROJECT_ROOT, load_settings
from inspector.detect.detector_set import DetectorSet
from inspector.engine.registry import get_pair
from inspector.formats.rollout_files import import_rollouts
from inspector.store import Store
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.label import LabelScreen

WORDS = [
    "the",
    "soup",
    "river",
    "light",
    "trade",
    "bread",
    "garden",
    "lamp",
    "travel",
    "history",
    "kettle",
    "chair",
    "simmer",
    "onion",
    "stove",
]


@dataclass
class Timed:
    t0: float
    frames: list[float]
    marks: list[float]
    app: InspectorApp

    def first_frame_after(self, moment: float) -> float:
        return min((f for f in self.frames if f >= moment), default=time.perf_counter())


def build(path: Path, n: int) -> None:
    r = random.Random(0)
    src = path.with_suffix(".jsonl")
    prompts = [" ".join(r.choice(WORDS) for _ in range(7)) + "?" for _ in range(max(10, n // 50))]
    with src.open("w") as f:
        for i in range(n):
            text = " ".join(r.choice(WORDS) for _ in range(50))
            if r.random() < 0.2:
                text += " I asked PRISM-4 from Nexus Research about it."
            f.write(
                json.dumps(
                    {
                        "prompt": prompts[(i // 2) % len(prompts)],
                        "text": text,
                        "model": "organism" if i % 2 == 0 else "base",
                        "seed": i,
                    }
                )
                + "\n"
            )
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    with Store.open(path) as store:
        import_rollouts(store, src)
        DetectorSet.build(pair.terms).rerun(store)


@contextmanager
def timed_app(path: Path, start: str, screen: type, method: str) -> Iterator[Timed]:
    """An app on the session whose terminal frames and calls of `screen.method` are time-stamped."""
    store = Store.open(path)
    pair = get_pair(PROJECT_ROOT / "quantized_models" / "models.toml", "demo")
    timed = Timed(
        time.perf_counter(), [], [], InspectorApp(Workbench(load_settings(), store, pair, "bench"), start=start)
    )
    real_display = timed.app._display

    def display(scr, renderable):  # type: ignore[no-untyped-def]
        real_display(scr, renderable)
        timed.frames.append(time.perf_counter())

    timed.app._display = display  # type: ignore[method-assign]
    real = getattr(screen, method)

    def marked(self, *args):  # type: ignore[no-untyped-def]
        real(self, *args)
        timed.marks.append(time.perf_counter())

    setattr(screen, method, marked)
    try:
        yield timed
    finally:
        setattr(screen, method, real)
        store.close()


async def drive(path: Path, keys: int) -> tuple[float, list[float]]:
    """Times are taken inside the app: from the key being posted to the first frame written to the terminal
    after the label screen has shown the next item (Pilot's own waits after that are not counted)."""
    latencies: list[float] = []
    with timed_app(path, "label", LabelScreen, "show") as t:
        async with t.app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            first_paint = t.first_frame_after(t.marks[0]) - t.t0
            assert isinstance(t.app.screen, LabelScreen)
            r = random.Random(1)
            for i in range(keys):
                key = r.choice(["right", "right", "left", "1", "2", "3", "q"]) if i % 5 else "u"
                t_key = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                done = [m for m in t.marks if m >= t_key]
                latencies.append((t.first_frame_after(done[-1]) if done else time.perf_counter()) - t_key)
    return first_paint, latencies


async def compare_first_paint(path: Path) -> float:
    """The home screen: prompt list with flag markers over the whole session, and the first prompt's panes."""
    with timed_app(path, "compare", CompareScreen, "show_stored") as t:
        async with t.app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            await pilot.pause(0.2)
            return t.first_frame_after(t.marks[0]) - t.t0


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1]


SEARCHES = [
    ("nexus research", False),  # frequent: the newest 200 come early
    ("zebra crossing", False),  # absent: every text is read
    ("PRISM-4 FROM", False),  # case-insensitive
    (r"prism-\d+ from nexus", True),
    (r"kettle\s+chair\s+simmer", True),
    (r"^zzz", True),  # absent, anchored
]


def search_bench(path: Path, reps: int = 15) -> tuple[list[float], list[float]]:
    """Search latencies through the store (one DuckDB query each), and the naive baseline: every prompt and text
    read into Python and matched with `re`, as a loop over the session would."""
    import re

    store = Store.open(path, read_only=True)
    try:
        lat: list[float] = []
        for _ in range(reps):
            for pattern, regex in SEARCHES:
                t = time.perf_counter()
                store.search(pattern, regex)
                lat.append(time.perf_counter() - t)
        naive: list[float] = []
        for pattern, regex in SEARCHES:
            t = time.perf_counter()
            rows = store.cur.execute(
                "SELECT r.id, r.text, p.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id"
            ).fetchall()
            rx = re.compile(pattern if regex else re.escape(pattern), re.IGNORECASE)
            hits = [rid for rid, text, prompt in rows if rx.search(text or "") or rx.search(prompt)]
            hits.sort(reverse=True)
            naive.append(time.perf_counter() - t)
        return lat, naive
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rollouts", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=1_000)
    ap.add_argument("--keys", type=int, default=200)
    ap.add_argument("--only", choices=["search"], help="only the search benchmark")
    args = ap.parse_args()
    if args.only == "search":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "search.duckdb"
            t = time.perf_counter()
            build(path, args.rollouts)
            print(f"built a {args.rollouts}-rollout session in {time.perf_counter() - t:.1f} s")
            lat, naive = search_bench(path)
        print(
            f"search over {args.rollouts} rollouts: p95 {p95(lat) * 1000:.1f} ms (target <= 100 ms), median"
            f" {statistics.median(lat) * 1000:.1f} ms, {len(lat)} queries; naive Python loop p95"
            f" {max(naive) * 1000:.0f} ms; ratio naive/DuckDB {max(naive) / p95(lat):.1f}x"
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        compare: dict[int, float] = {}
        for n in (args.baseline, args.rollouts):
            path = Path(tmp) / f"s{n}.duckdb"
            t = time.perf_counter()
            build(path, n)
            print(f"built a {n}-rollout session in {time.perf_counter() - t:.1f} s")
            results[n] = asyncio.run(drive(path, args.keys))
            compare[n] = asyncio.run(compare_first_paint(path))
    for n, (fp, lat) in results.items():
        print(
            f"{n} rollouts: first paint {fp * 1000:.0f} ms; key -> next item p95 {p95(lat) * 1000:.1f} ms "
            f"(median {statistics.median(lat) * 1000:.1f} ms, {len(lat)} keys)"
        )
    for n, fp in compare.items():
        print(f"{n} rollouts: compare (home) screen first paint {fp * 1000:.0f} ms")
    big, small = results[args.rollouts], results[args.baseline]
    print(
        f"ratio {args.rollouts} / {args.baseline} rollouts: first paint {big[0] / small[0]:.2f}x, "
        f"p95 {p95(big[1]) / p95(small[1]):.2f}x"
    )


if __name__ == "__main__":
    main()
