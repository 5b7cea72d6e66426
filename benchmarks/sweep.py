"""The dose-response sweep as the issue's "done when" asks: 5 strengths of the demo organism over 60 everyday
prompts plus the pair's probes (the base once), against a plain `inspector run` of the same prompts at full
strength (organism and base), measured in the same run. The sweep's target: 15 minutes on a 2-core machine.

    python -m benchmarks.sweep [--limit 60] [--max-tokens 96]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.machine import cpu_line
from inspector.config import load_settings


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "inspector.cli", *args], env=env, check=True, capture_output=True, text=True
    ).stdout
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--max-tokens", type=int, default=96)
    args = ap.parse_args()
    print(cpu_line(), flush=True)
    cache = load_settings().cache
    size = ["--limit", str(args.limit), "--max-tokens", str(args.max_tokens)]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "INSPECTOR_HOME": home, "INSPECTOR_CACHE": str(cache)}
        sweep, table = _timed(["sweep", "--session", "bench", *size], env)
        # The baseline: what one `run` costs on the same everyday prompts (the default set's first ones).
        prompts = os.path.join(home, "everyday.jsonl")
        from inspector.formats.prompt_files import load_prompts

        with open(prompts, "w", encoding="utf-8") as f:
            for p in [p for p in load_prompts(None) if not p.related][: args.limit]:
                f.write(json.dumps({"prompt": p.text, "topic": p.topic}) + "\n")
        run, _ = _timed(
            ["run", "--session", "baseline", "--prompts", prompts, "--max-tokens", str(args.max_tokens)], env
        )
    print(table, end="")
    print(f"sweep, 5 strengths + base, {args.limit} everyday prompts + probes: {sweep:.0f} s (target <= 900 s)")
    print(f"one `inspector run` of the {args.limit} prompts, organism + base: {run:.0f} s")
    print(f"ratio {sweep / run:.2f} (the sweep makes 6 models' rollouts over more prompts; a run makes 2)")


if __name__ == "__main__":
    main()
