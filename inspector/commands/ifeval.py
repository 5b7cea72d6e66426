"""`inspector ifeval`: a pair's responses to an IFEval set, made as a resumable run and scored into the session;
`inspector ifeval score`: IFEval's strict and loose verdicts for responses made anywhere, one line each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.commands import add_system_args, emit, system_from_args
from inspector.config import Settings
from inspector.errors import InspectorError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ifeval",
        help="instruction following as IFEval defines it (strict and loose), organism beside base",
        description="Without MODE: both models of a pair answer an IFEval set (a resumable run in the session), "
        "every answer is scored, and the figures are kept for `report`.",
    )
    p.add_argument("--session", help="session name or .duckdb path (the responses and figures are kept there)")
    p.add_argument("--pair", default="demo", help="a pair named in the pairs file (default: demo)")
    p.add_argument("--input-data", type=Path, help="IFEval's format (default: the project's set of 168 prompts)")
    p.add_argument("--limit", type=int, help="only the first N prompts")
    p.add_argument("--max-tokens", type=int, default=96, help="new tokens per response at most (default: 96)")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0: greedy)")
    p.add_argument("--seed", type=int, default=0, help="run seed")
    p.add_argument("--batch", type=int, default=32, help="prompts decoded together for GGUF pairs")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_system_args(p)
    p.set_defaults(func=ifeval_command)
    modes = p.add_subparsers(dest="ifeval_mode", metavar="MODE")
    s = modes.add_parser(
        "score",
        help="score responses against IFEval input data",
        description="Writes one JSON line per response, in order: "
        '{"key", "prompt", "strict", "loose", "instructions": [{"id", "strict", "loose"}]}.',
    )
    s.add_argument(
        "--input-data", type=Path, required=True, help="IFEval's format: key, prompt, instruction_id_list, kwargs"
    )
    s.add_argument("--responses", type=Path, required=True, help='JSONL lines {"key"?, "prompt", "response"}')
    s.add_argument("--out", type=Path, help="write the lines here instead of standard output")
    s.set_defaults(func=score_command)


def score_command(args: argparse.Namespace, settings: Settings) -> int:
    from inspector.actions.ifeval import score_files, totals
    from inspector.formats.ifeval_files import score_line

    # Every verdict is made before anything is written: a bad line leaves no half-written output behind.
    results = list(score_files(args.input_data, args.responses))
    text = "".join(score_line(p, s) + "\n" for p, s in results)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InspectorError(f"{args.out}: cannot write ({e.strerror})") from e
    t = totals([s for _, s in results])
    print(
        f"{t.n_responses} responses: prompt-level strict {t.prompt_strict:.1%}, loose {t.prompt_loose:.1%}; "
        f"instruction-level strict {t.instruction_strict:.1%}, loose {t.instruction_loose:.1%}",
        file=sys.stderr,
    )
    return 0


def ifeval_command(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from inspector.actions.ifeval import DEFAULT_SET, ifeval_rows, run_ifeval
    from inspector.actions.rollouts import check_prompts
    from inspector.analysis.ifeval.lines import ifeval_lines
    from inspector.engine.base import GenParams
    from inspector.engine.registry import open_pair, resolve_pair
    from inspector.formats.ifeval_files import read_input_data
    from inspector.store import Store

    if not args.session:
        raise InspectorError("ifeval: --session is required (or use `inspector ifeval score`)")
    for name in ("limit", "max_tokens", "batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InspectorError(f"--{name.replace('_', '-')} must be at least 1, not {value}")
    if not 0 <= args.temperature <= 5:
        raise InspectorError("--temperature must be in [0, 5]")
    # Inputs first: a bad file or pair is one line before any model loads, and the session is not touched.
    input_data = args.input_data or DEFAULT_SET
    prompts = read_input_data(input_data)[: args.limit] if args.limit else read_input_data(input_data)
    pair = resolve_pair(settings.models_file, args.pair)
    system = system_from_args(args, pair)
    path = settings.session_path(args.session)
    Store.check_writable(path)
    params = GenParams(seed=args.seed, temperature=args.temperature, top_p=1.0, max_tokens=args.max_tokens)
    console = Console(stderr=True)
    with console.status("loading models"):
        backends = open_pair(pair, settings.cache, n_seq=args.batch)
    try:
        check_prompts(backends, ifeval_rows(prompts, system))
        with Store.open(path) as store, console.status(f"{pair.name}: IFEval responses"):
            done = run_ifeval(store, pair, backends, input_data, prompts, params, system)
    finally:
        for b in backends.values():
            b.close()
    console.print(
        f"run {done.run_id}: {done.progress.done} new responses, {done.progress.skipped} already done,"
        f" {done.progress.errors} errors -> {path}",
        highlight=False,
        soft_wrap=True,
    )
    return emit(done.figures, ifeval_lines(done.figures), args.json)
