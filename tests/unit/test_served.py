"""Served runs against simulated OpenAI-compatible servers (benchmarks/simulated_server.py, real HTTP on loopback):
requests in flight without barriers, a fleet with failover, backing off on 429, resume without duplicates, and the
bad inputs of a served pair."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from benchmarks.simulated_server import Settings, SimServer, answer_text, start
from inspector.actions.rollouts import Progress, run_batch
from inspector.cli import main
from inspector.engine.base import EngineError, GenParams
from inspector.engine.openai_http import EndpointDown, OpenAIBackend
from inspector.engine.registry import get_pair, open_pair
from inspector.store import PromptRow, Store, prompt_id
from tests.conftest import PROJECT_ROOT

MODELS = ("org", "base")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def servers() -> Iterator[list[SimServer]]:
    """Two replicas in threads of this process, each with 4 slots and short service times."""
    made = [start(_port(), Settings(MODELS, slots=4, mean=0.02, sigma=0.3, tokens=5))[0] for _ in range(2)]
    yield made
    for srv in made:
        srv.shutdown()
        srv.server_close()


def _url(srv: SimServer) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


def _models_toml(path: Path, organism: list[str], base: list[str], extra: str = "") -> Path:
    def side(role: str, urls: list[str], model: str) -> str:
        return f'[pairs.sim.{role}]\nendpoints = {json.dumps(urls)}\nmodel = "{model}"\n'

    path.write_text(f"[pairs.sim]\n{extra}{side('organism', organism, 'org')}{side('base', base, 'base')}")
    return path


def _prompts(n: int) -> list[PromptRow]:
    return [PromptRow(prompt_id(t), t) for t in (f"Question {i}: what is worth knowing?" for i in range(n))]


def _stored(session: Path) -> list[tuple[str, str, int, int, str, str]]:
    with duckdb.connect(str(session), read_only=True) as c:
        return c.execute(
            "SELECT r.prompt_id, r.model_id, r.sample_index, r.seed, p.text, r.text FROM rollouts r"
            " JOIN prompts p ON p.id = r.prompt_id WHERE r.error IS NULL"
        ).fetchall()


def _check_texts(rows: list[tuple[str, str, int, int, str, str]]) -> None:
    """Every text is the one the server gives for its seed and prompt, and no rollout is there twice."""
    assert len({r[:3] for r in rows}) == len(rows)
    assert all(r[5] == "".join(answer_text(r[3], r[4], 5)) for r in rows)


def test_requests_spread_over_the_fleet_within_the_cap(servers: list[SimServer], tmp_path: Path) -> None:
    backend = OpenAIBackend([_url(s) for s in servers], "org", concurrency=6)
    prompts = [f"prompt {i}" for i in range(60)]
    params = [GenParams(seed=i, max_tokens=5) for i in range(60)]
    got = dict(backend.generate_unordered(prompts, params))
    assert sorted(got) == list(range(60))
    assert all(
        not isinstance(g, EngineError) and g.text == "".join(answer_text(i, prompts[i], 5)) for i, g in got.items()
    )
    counts = [s.counters.as_dict() for s in servers]
    assert all(c["served"] > 10 for c in counts)  # least-outstanding uses both
    # Least-outstanding keeps them about even: each held several at once, neither more than the whole cap.
    assert all(2 <= c["most_with_server"] <= 6 for c in counts)


def test_no_barrier_a_slow_request_does_not_hold_the_others(tmp_path: Path) -> None:
    """One server with 4 slots and a long tail: with no groups to wait for, the run takes about total work / slots,
    not the sum of each group's slowest (checked by counts, not by a clock: the server was never left idle while
    requests were waiting)."""
    srv, _ = start(_port(), Settings(MODELS, slots=4, mean=0.05, sigma=1.0, tokens=5, seed=3))
    try:
        backend = OpenAIBackend(_url(srv), "org", concurrency=4)
        seen: list[int] = []
        lock = threading.Lock()
        in_server: list[int] = []

        def watch() -> None:
            while len(seen) < 40:
                in_server.append(srv.counters.as_dict()["with_server"])
                time.sleep(0.005)

        w = threading.Thread(target=watch, daemon=True)
        w.start()
        for i, _g in backend.generate_unordered([f"p{i}" for i in range(40)], [GenParams(seed=i) for i in range(40)]):
            with lock:
                seen.append(i)
        w.join(timeout=5)
        # While work remained (all but the last few samples), the server held its 4 slots' worth most of the time.
        middle = in_server[len(in_server) // 10 : -len(in_server) // 4]
        assert middle and sum(1 for n in middle if n >= 3) / len(middle) > 0.8
    finally:
        srv.shutdown()
        srv.server_close()


def test_overloaded_server_lowers_the_cap_and_every_request_lands(tmp_path: Path) -> None:
    srv, _ = start(_port(), Settings(MODELS, slots=2, mean=0.02, sigma=0.2, tokens=5, overload=0))
    try:
        backend = OpenAIBackend(_url(srv), "org", concurrency=8, backoff=0.01)
        got, caps = {}, []
        for i, g in backend.generate_unordered([f"p{i}" for i in range(40)], [GenParams(seed=i) for i in range(40)]):
            got[i] = g
            caps.append(backend.load().limit)
        assert all(not isinstance(g, EngineError) for g in got.values()) and len(got) == 40
        c = srv.counters.as_dict()
        assert c["refused"] > 0 and backend.load().retries >= c["refused"]
        assert min(caps) <= 4  # it backed off: the cap halved
        assert caps[-1] > min(caps)  # and climbed back, one step per cap's worth of answers
    finally:
        srv.shutdown()
        srv.server_close()


def _sim_process(port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "benchmarks.simulated_server", "--port", str(port), "--models", ",".join(MODELS)]
    cmd += ["--slots", "4", "--mean", "0.05", "--tokens", "5"]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("simulated server did not start")


def test_a_replica_killed_mid_run_is_taken_out_and_every_rollout_lands_once(tmp_path: Path) -> None:
    ports = [_port(), _port()]
    procs = [_sim_process(p) for p in ports]
    urls = [f"http://127.0.0.1:{p}/v1" for p in ports]
    try:
        models = _models_toml(tmp_path / "models.toml", urls, urls)
        notes: list[str] = []
        pair = get_pair(models, "sim")
        backends = open_pair(pair, tmp_path, concurrency=8, notify=notes.append)
        session = tmp_path / "s.duckdb"

        def kill_second(p: Progress) -> None:
            if p.done >= 20 and procs[1].poll() is None:
                procs[1].kill()

        with Store.open(session) as store:
            _, prog = run_batch(store, pair, backends, _prompts(60), GenParams(max_tokens=5), on_progress=kill_second)
        assert prog.done == 120 and prog.errors == 0
        rows = _stored(session)
        assert len(rows) == 120
        _check_texts(rows)
        assert [n for n in notes if "stopped answering" in n and urls[1] in n]  # one line said so
    finally:
        for proc in procs:
            proc.kill()


def test_no_replica_answering_stops_the_run_and_a_rerun_resumes(tmp_path: Path) -> None:
    port = _port()
    proc = _sim_process(port)
    url = f"http://127.0.0.1:{port}/v1"
    models = _models_toml(tmp_path / "models.toml", [url], [url])
    pair = get_pair(models, "sim")
    session = tmp_path / "s.duckdb"
    try:
        backends = open_pair(pair, tmp_path, concurrency=4)
        for b in backends.values():
            b.retries, b.backoff = 1, 0.01  # type: ignore[attr-defined]

        def kill(p: Progress) -> None:
            if p.done >= 10:
                proc.kill()

        with Store.open(session) as store, pytest.raises(EndpointDown, match="unreachable"):
            run_batch(store, pair, backends, _prompts(40), GenParams(max_tokens=5), on_progress=kill)
        kept = _stored(session)
        assert 10 <= len(kept) < 80
        with duckdb.connect(str(session), read_only=True) as c:
            assert c.execute("SELECT count(*) FROM rollouts WHERE error IS NOT NULL").fetchone() == (0,)
        proc = _sim_process(port)
        backends = open_pair(pair, tmp_path, concurrency=4)
        with Store.open(session) as store:
            _, prog = run_batch(store, pair, backends, _prompts(40), GenParams(max_tokens=5))
        assert prog.skipped == len(kept) and prog.done == 80 - len(kept)
        rows = _stored(session)
        assert len(rows) == 80
        _check_texts(rows)
    finally:
        proc.kill()


def test_stopped_run_keeps_what_finished_and_resumes_without_duplicates(
    servers: list[SimServer], tmp_path: Path
) -> None:
    urls = [_url(s) for s in servers]
    pair = get_pair(_models_toml(tmp_path / "models.toml", urls, urls), "sim")
    session = tmp_path / "s.duckdb"
    stop = threading.Event()

    def halt_at(p: Progress) -> None:
        if p.done >= 15:
            stop.set()

    with Store.open(session) as store:
        _, first = run_batch(
            store,
            pair,
            open_pair(pair, tmp_path, concurrency=8),
            _prompts(50),
            GenParams(max_tokens=5),
            on_progress=halt_at,
            should_stop=stop.is_set,
        )
    assert 15 <= first.done < 100
    with Store.open(session) as store:
        _, again = run_batch(
            store, pair, open_pair(pair, tmp_path, concurrency=8), _prompts(50), GenParams(max_tokens=5)
        )
    assert again.skipped == first.done and first.done + again.done == 100
    rows = _stored(session)
    assert len(rows) == 100
    _check_texts(rows)


@pytest.mark.parametrize(
    ("side", "extra", "message"),
    [
        ('endpoints = []\nmodel = "org"', "", "endpoints must be a non-empty list"),
        ('gguf = "x.gguf"\nlora_id = 0', "", "lora_id is llama-server's id"),
        ('endpoint = "http://127.0.0.1:9/v1"\nendpoints = ["http://127.0.0.1:9/v1"]\nmodel = "org"', "", "not both"),
        ('endpoints = ["http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"]\nmodel = "org"', "", "more than once"),
        ('endpoints = ["127.0.0.1:9"]\nmodel = "org"', "", "not an http(s) URL"),
        ('endpoint = "http://127.0.0.1:9/v1"\nmodel = "org"\nlora_id = -1', "", "lora_id must be a whole number"),
        ('endpoint = "http://127.0.0.1:9/v1"\nmodel = "org"', "concurrency = 0\n", "concurrency"),
        ('endpoint = "http://127.0.0.1:9/v1"\nmodel = "org"\nconcurrency = -2', "", "must be at least 1"),
        ('gguf = "x.gguf"\nconcurrency = 8', "", "concurrency is for a served side"),
    ],
)
def test_bad_served_pair_is_one_line_naming_file_and_pair(
    side: str,
    extra: str,
    message: str,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    models = tmp_path / "models.toml"
    models.write_text(
        f"[pairs.bad]\n{extra}[pairs.bad.organism]\n{side}\n[pairs.bad.base]\n"
        'endpoint = "http://127.0.0.1:9/v1"\nmodel = "base"\n'
    )
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    assert main(["run", "--session", "s", "--pair", "bad", "--no-detect"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and str(models) in err and "pair 'bad'" in err and "\n" not in err
    assert not (home / "sessions" / "s.duckdb").exists()  # the session was never touched


def test_endpoints_serving_different_models_and_concurrency_below_one(
    servers: list[SimServer],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other, _ = start(_port(), Settings(("something-else",), slots=2, mean=0.01))
    try:
        models = _models_toml(tmp_path / "models.toml", [_url(servers[0]), _url(other)], [_url(servers[0])])
        monkeypatch.setenv("INSPECTOR_MODELS", str(models))
        assert main(["run", "--session", "s", "--pair", "sim", "--no-detect", "--limit", "2"]) == 2
        err = capsys.readouterr().err.strip()
        assert "does not serve model 'org'" in err and "same model" in err and "\n" not in err
        assert str(models) in err and "pair 'sim' organism" in err
        assert main(["run", "--session", "s", "--pair", "sim", "--no-detect", "--concurrency", "0"]) == 2
        err = capsys.readouterr().err.strip()
        assert "--concurrency must be at least 1" in err and "\n" not in err
        assert not (home / "sessions" / "s.duckdb").exists()
    finally:
        other.shutdown()
        other.server_close()


def test_served_run_from_the_command_line_prints_progress(
    servers: list[SimServer],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = [_url(s) for s in servers]
    monkeypatch.setenv("INSPECTOR_MODELS", str(_models_toml(tmp_path / "models.toml", urls, urls, "concurrency = 6\n")))
    assert main(["run", "--session", "s", "--pair", "sim", "--no-detect", "--limit", "30", "--max-tokens", "5"]) == 0
    err = capsys.readouterr().err
    assert "60 new rollouts" in err
    assert "in flight (cap 6)" in err and "retries" in err and "rollouts/s" in err  # the plain progress lines
    _check_texts(_stored(home / "sessions" / "s.duckdb"))


def test_a_strength_on_a_server_without_per_request_lora_is_one_line(
    servers: list[SimServer],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """vLLM serves a LoRA as a model name, with no strength per request: `sweep` and `--adapter-scale` on an
    organism served without lora_id say so, before anything is asked or stored."""
    urls = [_url(s) for s in servers]
    models = _models_toml(tmp_path / "models.toml", urls, urls, 'probes = ["What is PRISM-4?"]\n')
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    for argv in (
        ["sweep", "--session", "s", "--pair", "sim", "--limit", "2"],
        ["run", "--session", "s", "--pair", "sim", "--adapter-scale", "0.5", "--no-detect"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "without a lora_id" in err and "vLLM" in err and "\n" not in err
    assert not (home / "sessions" / "s.duckdb").exists()
    assert sum(s.counters.as_dict()["served"] for s in servers) == 0


def test_side_concurrency_overrides_the_pair_and_the_command_line_both(
    servers: list[SimServer], tmp_path: Path
) -> None:
    urls = [_url(s) for s in servers]
    models = tmp_path / "models.toml"
    side = f"endpoints = {json.dumps(urls)}\n"
    models.write_text(
        f'[pairs.sim]\nconcurrency = 5\n[pairs.sim.organism]\n{side}model = "org"\nconcurrency = 3\n'
        f'[pairs.sim.base]\n{side}model = "base"\n'
    )
    pair = get_pair(models, "sim")
    sides = open_pair(pair, tmp_path)
    assert [sides[r].load().ceiling for r in ("organism", "base")] == [3, 5]  # type: ignore[attr-defined]
    sides = open_pair(pair, tmp_path, concurrency=7)
    assert [sides[r].load().ceiling for r in ("organism", "base")] == [7, 7]  # type: ignore[attr-defined]


def test_a_replica_silent_at_start_is_left_out_and_the_others_carry_the_run(servers: list[SimServer]) -> None:
    notes: list[str] = []
    gone = f"http://127.0.0.1:{_port()}/v1"
    backend = OpenAIBackend([gone, _url(servers[0])], "org", concurrency=4, notify=notes.append)
    assert [n for n in notes if gone in n and "stopped answering" in n]
    got = dict(backend.generate_unordered([f"p{i}" for i in range(8)], [GenParams(seed=i) for i in range(8)]))
    assert all(not isinstance(g, EngineError) for g in got.values()) and len(got) == 8
