"""Served runs at scale: `inspector run` against simulated OpenAI-compatible servers (benchmarks/simulated_server.py,
each its own process on loopback), from process start to the last stored rollout.

1. One server, `--slots` slots: `--prompts` prompts x 2 sides (organism then base, both models on it) at
   `--concurrency` in flight. Ideal time = completions x mean service time / slots (the server can do no
   better; with a cap below the slots, / the cap); target: within 1.2x of it. Also the requests the server
   held at once (sampled every 0.25 s, middle 80% of the run), and the run's resident memory at 10%, 50% and
   90% of the completions (flat: no growth with the run).
2. Two such servers as one fleet, the second killed half way through the organism's side (25% of the
   completions; at 50% it would die between the sides, with almost nothing in flight): every rollout stored
   once, every text the one the server gives for its seed, the time beside the same ideal (the cap, not the
   slots, bounds it: 128 in flight over two servers is one server's worth).
3. The same fleet, Ctrl-C (SIGINT) at 40%, then the run again: nothing duplicated, nothing missing.

    python -m benchmarks.served [--prompts 9292] [--concurrency 128] [--slots 128] [--mean 1.0] [--tokens 32]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.machine import cpu_line
from benchmarks.simulated_server import answer_text

MODELS = ("sim-organism", "sim-base")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, seed: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "benchmarks.simulated_server", "--port", str(port), "--models", ",".join(MODELS)]
    cmd += ["--slots", str(args.slots), "--mean", str(args.mean), "--sigma", str(args.sigma)]
    cmd += ["--tokens", str(args.tokens), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{url}/v1/models", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the simulated server did not start")


def stats(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/stats", timeout=2) as r:
            return dict(json.load(r))
    except OSError:
        return None


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def write_inputs(home: Path, urls: list[str], n: int) -> Path:
    sides = "".join(
        f'[pairs.sim.{role}]\nendpoints = {json.dumps([u + "/v1" for u in urls])}\nmodel = "{model}"\n'
        for role, model in zip(("organism", "base"), MODELS, strict=True)
    )
    (home / "models.toml").write_text(f"[pairs.sim]\n{sides}")
    prompts = home / "prompts.jsonl"
    with prompts.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"p{i}", "prompt": f"Question number {i}: what is worth knowing?"}) + "\n")
    return prompts


def run_cli(
    home: Path,
    prompts: Path,
    args: argparse.Namespace,
    servers: list[tuple[subprocess.Popen[bytes], str]],
    expected: int,
    kill_at: float | None = None,
    interrupt_at: float | None = None,
) -> dict[str, Any]:
    """One `inspector run`, watched: the servers' load, the run's memory; a server killed or the run interrupted
    when the servers have served the given share of `expected` completions (counted from this run's start)."""
    env = {**os.environ, "INSPECTOR_HOME": str(home), "INSPECTOR_MODELS": str(home / "models.toml")}
    cmd = [
        sys.executable,
        "-m",
        "inspector.cli",
        "run",
        "--session",
        "bench",
        "--pair",
        "sim",
        "--prompts",
        str(prompts),
        "--no-detect",
        "--concurrency",
        str(args.concurrency),
        "--max-tokens",
        str(args.tokens),
    ]
    served0 = sum((stats(u) or {}).get("served", 0) for _, u in servers)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int, int]] = []  # (time, served so far, requests with the servers)
    memory: list[tuple[float, float]] = []  # (share done, MB)
    killed = interrupted = False
    while proc.poll() is None:
        time.sleep(0.25)
        now = [s for _, u in servers if (s := stats(u)) is not None]
        served = sum(s["served"] for s in now) - served0
        samples.append((time.perf_counter() - t0, served, sum(s["with_server"] for s in now)))
        if (mb := rss_mb(proc.pid)) is not None:
            memory.append((served / expected, mb))
        if kill_at is not None and not killed and served >= kill_at * expected:
            servers[-1][0].kill()
            killed = True
        if interrupt_at is not None and not interrupted and served >= interrupt_at * expected:
            proc.send_signal(signal.SIGINT)
            interrupted = True
    _, err = proc.communicate()
    took = time.perf_counter() - t0
    busy = [w for t, s, w in samples if 0.1 * expected <= s <= 0.9 * expected]

    def mem_at(share: float) -> float | None:
        return next((mb for s, mb in memory if s >= share), None)

    return {
        "seconds": took,
        "rc": proc.returncode,
        "stderr": err.strip().splitlines()[-3:],
        "in_flight_mean": statistics.fmean(busy) if busy else None,
        "memory": {share: mem_at(share) for share in (0.1, 0.5, 0.9)},
    }


def check_session(home: Path, tokens: int) -> tuple[int, int, int]:
    """(rollouts stored, keys stored more than once, texts not what the server says for their seed)."""
    con = duckdb.connect(str(home / "sessions" / "bench.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT r.prompt_id, r.model_id, r.sample_index, r.seed, p.text, r.text FROM rollouts r"
        " JOIN prompts p ON p.id = r.prompt_id WHERE r.error IS NULL"
    ).fetchall()
    con.close()
    keys = [(r[0], r[1], r[2]) for r in rows]
    wrong = sum(1 for r in rows if r[5] != "".join(answer_text(int(r[3]), str(r[4]), tokens)))
    return len(rows), len(keys) - len(set(keys)), wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=9292, help="prompts per side (x 2 sides = completions)")
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--slots", type=int, default=128)
    ap.add_argument("--mean", type=float, default=1.0, help="mean service time of a request, seconds")
    ap.add_argument("--sigma", type=float, default=0.5, help="spread of the log service time (log-normal)")
    ap.add_argument("--tokens", type=int, default=32, help="tokens streamed per answer")
    ap.add_argument("--only", choices=("1", "2", "3"), help="one scenario")
    args = ap.parse_args()
    expected = 2 * args.prompts
    # Neither the server's slots nor the client's cap can be beaten: the smaller bounds the run.
    ideal = expected * args.mean / min(args.slots, args.concurrency)
    print(cpu_line(), flush=True)
    print(
        f"simulated server: {args.slots} slots, service time log-normal mean {args.mean:g} s (sigma {args.sigma:g}),"
        f" {args.tokens} tokens streamed per answer; {args.prompts} prompts x 2 sides = {expected} completions at"
        f" --concurrency {args.concurrency}; ideal {ideal:.1f} s (completions x mean / min(slots, concurrency))",
        flush=True,
    )
    if args.only in (None, "1"):
        with fleet(args, 1) as (home, servers, prompts):
            r = run_cli(home, prompts, args, servers, expected)
            stored, dup, wrong = check_session(home, args.tokens)
        mem = ", ".join(f"{int(k * 100)}% {v:.0f} MB" if v else f"{int(k * 100)}% ?" for k, v in r["memory"].items())
        print(
            f"1 one server: {r['seconds']:.1f} s vs ideal {ideal:.1f} s: {r['seconds'] / ideal:.2f}x"
            " (target <= 1.20);"
            f" requests with the server, mean over the middle 80%: {r['in_flight_mean'] or 0:.1f} of"
            f" {args.concurrency}; memory {mem}; {stored}/{expected} stored, {dup} twice, {wrong} wrong texts"
            f" (exit {r['rc']})",
            flush=True,
        )
    if args.only in (None, "2"):
        with fleet(args, 2) as (home, servers, prompts):
            r = run_cli(home, prompts, args, servers, expected, kill_at=0.25)
            stored, dup, wrong = check_session(home, args.tokens)
        print(
            f"2 two servers, the second killed half way through the organism's side: {r['seconds']:.1f} s"
            f" (ideal {ideal:.1f} s: {r['seconds'] / ideal:.2f}x); {stored}/{expected} stored, {dup} twice,"
            f" {wrong} wrong texts (exit {r['rc']}); {r['stderr'][-1] if r['stderr'] else ''}",
            flush=True,
        )
    if args.only in (None, "3"):
        with fleet(args, 2) as (home, servers, prompts):
            first = run_cli(home, prompts, args, servers, expected, interrupt_at=0.4)
            stored_first, _, _ = check_session(home, args.tokens)
            again = run_cli(home, prompts, args, servers, expected - stored_first)
            stored, dup, wrong = check_session(home, args.tokens)
        print(
            f"3 Ctrl-C at 40%, then again: {stored_first} stored when interrupted (exit {first['rc']}), then"
            f" {stored}/{expected} stored, {dup} twice, {wrong} wrong texts (exit {again['rc']})",
            flush=True,
        )


@contextlib.contextmanager
def fleet(args: argparse.Namespace, n: int) -> Iterator[tuple[Path, list[tuple[subprocess.Popen[bytes], str]], Path]]:
    """A scratch home with `n` simulated servers (seeds 1..n) and the pair and prompts pointing at them; the
    servers are stopped however the scenario ends."""
    with tempfile.TemporaryDirectory() as tmp:
        servers = [start_server(args, seed) for seed in range(1, n + 1)]
        try:
            yield Path(tmp), servers, write_inputs(Path(tmp), [u for _, u in servers], args.prompts)
        finally:
            for proc, _ in servers:
                proc.kill()


if __name__ == "__main__":
    main()
