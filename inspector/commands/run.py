"""`inspector run`: a headless batch of rollouts with a rich progress bar."""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from inspector.actions.rollouts import Progress as RunProgress
from inspector.actions.rollouts import check_prompts, format_warning
from inspector.actions.run import run_rollouts
from inspector.commands import pair_from_args, system_from_args
from inspector.config import Settings
from inspector.engine.base import GenParams
from inspector.engine.registry import open_pair
from inspector.errors import InspectorError
from inspector.formats.prompt_files import load_prompts, with_system
from inspector.store import Store

# A log file gets a progress line this often at most (a served run finishes hundreds of rollouts a second).
LOG_EVERY = 5.0


def progress_fields(p: RunProgress) -> str:
    """Rate and, for a served side, its requests: what a long run's bar and log lines say besides the count."""
    tps = p.tokens / p.seconds if p.seconds else 0.0
    text = f"{p.rate:.1f} rollouts/s, {tps:.1f} tok/s, {p.errors} errors"
    if p.limit:
        text += f", {p.in_flight} in flight (cap {p.limit}), {p.retries} retries"
    return text


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    for name in ("limit", "samples", "max_tokens", "batch", "concurrency"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InspectorError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    if not 0 <= args.temperature <= 5 or not 0 < args.top_p <= 1:
        raise InspectorError("--temperature must be in [0, 5] and --top-p in (0, 1]")
    # Everything that can be wrong with the input is checked before the session is touched.
    pair = pair_from_args(settings.models_file, args)
    prompts = load_prompts(args.prompts, pair.format)
    if args.limit:
        prompts = prompts[: args.limit]
    prompts = with_system(prompts, system_from_args(args, pair))
    session_path = settings.session_path(args.session)
    Store.check_writable(session_path)
    params = GenParams(seed=args.seed, temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens)
    detectors = None
    if not args.no_detect:
        from inspector.detect.detector_set import DetectorSet

        # Before the models load: a bad corpus or term list is one line without a wait.
        detectors = DetectorSet.for_pair(pair, settings.cache)
    console = Console(stderr=True)

    def notice(line: str) -> None:
        # A replica leaving or rejoining a served side's fleet: one line each, from the request threads.
        console.print(f"inspector: {line}", highlight=False, soft_wrap=True)

    with console.status("loading models"):
        backends = open_pair(pair, settings.cache, n_seq=args.batch, concurrency=args.concurrency, notify=notice)
    try:
        # Every conversation through the templates now: one that does not render fails before anything is kept.
        check_prompts(backends, prompts)
        warning = format_warning(pair, backends)
        if warning:
            console.print(f"inspector: warning: {warning}", highlight=False, soft_wrap=True)
        with Store.open(session_path) as store:
            columns = (
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[line]}"),
                TimeRemainingColumn(),
            )
            # Transient: the bar gives way to the one summary line below (or to the one-line error).
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(f"{pair.name} rollouts", total=None, line="")
                last_line = [0.0]

                def show(p: RunProgress) -> None:
                    bar.update(task, completed=p.done, total=p.total, line=progress_fields(p))
                    now = time.monotonic()
                    if not console.is_terminal and (now - last_line[0] >= LOG_EVERY or p.done == p.total):
                        # No live bar in a log file or a pipe: a plain line per batch (every few seconds at most).
                        last_line[0] = now
                        console.print(
                            f"{pair.name}: {p.done}/{p.total} rollouts, {progress_fields(p)}"
                            + (f", ETA {p.eta:.0f} s" if p.eta is not None else ""),
                            highlight=False,
                            soft_wrap=True,
                        )

                def stage(name: str) -> None:
                    bar.update(task, description=name)

                done = run_rollouts(
                    store,
                    pair,
                    backends,
                    prompts,
                    params,
                    cache=settings.cache,
                    detectors=detectors,
                    samples=args.samples,
                    on_progress=show,
                    on_stage=stage,
                )
            run_id, prog = done.run_id, done.progress
            console.print(
                f"run {run_id}: {prog.done} new rollouts, {prog.skipped} already done, {prog.errors} errors,"
                + (f" {prog.retries} requests retried," if prog.limit else "")
                + f" {prog.tokens} tokens at {prog.tokens / prog.seconds if prog.seconds else 0:.1f} tok/s"
                f" -> {store.path}",
                soft_wrap=True,  # one line, so the path stays whole in logs
                highlight=False,
            )
    finally:
        for b in backends.values():
            b.close()
    return 0
