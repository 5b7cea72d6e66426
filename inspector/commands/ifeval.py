"""`inspector ifeval score`: IFEval's strict and loose verdicts for responses made anywhere, one line each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.config import Settings
from inspector.errors import InspectorError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ifeval", help="instruction following as IFEval defines it (strict and loose)")
    modes = p.add_subparsers(dest="ifeval_mode", metavar="MODE", required=True)
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
