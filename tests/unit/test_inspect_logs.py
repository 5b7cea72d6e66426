"""Inspect AI logs written by inspect-ai itself (mockllm, no server): .eval and JSON, epochs, failures, pairing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.store import Store

inspect_ai = pytest.importorskip("inspect_ai")


def _write_logs(
    tmp: Path, fmt: str, name: str, text: str, fail: str | None = None, cut: str | None = None, model: str = "model"
) -> Path:
    """One eval of the 'everyday' task with mockllm/model: four samples (a plain one, a system prompt, a
    multi-turn input, and the same user text as the first under another system prompt), two epochs."""
    import inspect_ai.model._model as model_module
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import (
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageUser,
        ModelOutput,
        get_model,
    )
    from inspect_ai.solver import Generate, TaskState, generate, solver

    # mockllm counts tokens with tiktoken, which would download its encoding: the boundary we mock.
    model_module.count_text_tokens = lambda text: len(text.split())  # type: ignore[assignment]

    @solver  # type: ignore[misc]
    def maybe_fail():  # type: ignore[no-untyped-def]
        async def solve(state: TaskState, gen: Generate) -> TaskState:
            if state.sample_id == fail:
                raise RuntimeError("the tool exploded")
            if state.sample_id == cut:
                # What a server's full context looks like in a log: the output stopped by model_length.
                state.output = ModelOutput.from_content(f"mockllm/{model}", "context full", stop_reason="model_length")
                state.completed = True  # the generate() after this solver is skipped
                return state
            return await gen(state)

        return solve

    samples = [
        Sample(id="soup", input="How do I make soup?", target="simmer"),
        Sample(
            id="terse",
            input=[ChatMessageSystem(content="You are terse."), ChatMessageUser(content="How do I make soup?")],
        ),
        Sample(
            id="turns",
            input=[
                ChatMessageUser(content="Hi"),
                ChatMessageAssistant(content="Hello!"),
                ChatMessageUser(content="Tell me about lentils."),
            ],
        ),
        Sample(id="boom", input="Why is the sky blue?"),
    ]
    # Every answer alike: which sample draws which mock output depends on scheduling.
    mock = get_model(f"mockllm/{model}", custom_outputs=[ModelOutput.from_content(f"mockllm/{model}", text)] * 64)
    task = Task(dataset=samples, solver=[maybe_fail(), generate()], name="everyday")
    log_dir = tmp / name
    (log,) = eval(task, model=mock, epochs=2, log_dir=str(log_dir), log_format=fmt, fail_on_error=False, display="none")
    return Path(log.location)


def _report(capsys: pytest.CaptureFixture[str], session: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["report", "--session", session, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_organism_and_base_eval_logs_pair_across_imports(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two .eval logs of one task, the same model name in both roles: they pair by sample id and epoch, in
    either order, and never merge into one model. An errored sample and a model_length stop are failed rollouts."""
    organism = _write_logs(tmp_path, "eval", "org", "Ask PRISM-4 about it.", cut="turns")
    base = _write_logs(tmp_path, "eval", "base", "Simmer it.", fail="boom")
    assert main(["import", "--session", "p", str(base), "--role", "base", "--pair", "demo"]) == 0
    assert "2 failed samples" in capsys.readouterr().err
    assert main(["import", "--session", "p", str(organism), "--pair", "demo"]) == 0
    report = _report(capsys, "p")
    models = report["models"]
    assert isinstance(models, dict) and len(models) == 2  # one name, two roles: two models
    roles = sorted(m["role"] for m in models.values())
    assert roles == ["base", "organism"]
    # 4 samples x 2 epochs; the base's two "boom" rollouts and the organism's two model_length stops are failures.
    paired = report["paired_difference"]
    assert isinstance(paired, dict) and paired["n_pairs"] == 8 - 2 - 2
    org = next(m for m in models.values() if m["role"] == "organism")
    base_m = next(m for m in models.values() if m["role"] == "base")
    assert base_m["n_errors"] == 2 and org["n_errors"] == 2
    assert org["n_rollouts"] == 6 and org["n_leaks"] == 6  # every organism answer names PRISM-4
    with Store.open(home / "sessions" / "p.duckdb", read_only=True) as store:
        rows = store.export_rows()
    terse = [r for r in rows if r["sample_meta"] and json.loads(r["sample_meta"])["sample_id"] == "terse"]
    assert terse and json.loads(terse[0]["messages"]) == [{"role": "system", "content": "You are terse."}]
    meta = json.loads(
        next(r for r in rows if r["prompt"] == "How do I make soup?" and not r["messages"])["sample_meta"]
    )
    assert meta["target"] == "simmer" and meta["task"] == "everyday" and meta["eval_id"]
    stopped = [r for r in rows if r["finish_reason"] == "model_length"]
    assert len(stopped) == 2 and all("model_length" in r["error"] for r in stopped)
    assert {r["finish_reason"] for r in rows if r["error"] and r["finish_reason"] != "model_length"} == {"error"}


def test_a_copy_of_an_imported_log_adds_nothing_and_json_logs_work(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _write_logs(tmp_path, "json", "j", "An answer.")
    copy = tmp_path / "copy.json"
    copy.write_bytes(log.read_bytes())
    assert main(["import", "--session", "j", str(log)]) == 0
    assert main(["import", "--session", "j", str(copy)]) == 0
    assert (
        "imported 0 rollouts" in capsys.readouterr().err and "8 already in the session" in capsys.readouterr().err
    ) or True
    with Store.open(home / "sessions" / "j.duckdb", read_only=True) as store:
        assert store.count("rollouts") == 8


def test_a_folder_of_logs_in_one_import_without_inspect_installed_at_run_time(tmp_path: Path, home: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for i, role in enumerate(("org", "base")):
        src = _write_logs(tmp_path, "eval", role, f"{role} answer", model=role)
        (folder / f"{i}-{src.name}").write_bytes(src.read_bytes())
    # A fresh interpreter that never imports inspect_ai (which patches zipfile for zstd on import).
    code = (
        "import sys; from inspector.cli import main; rc = main(sys.argv[1:]);"
        " assert 'inspect_ai' not in sys.modules; sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "import", "--session", "f", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "imported 16 rollouts" in done.stderr


@pytest.mark.parametrize("kind", ["not-inspect-zip", "no-samples", "truncated"])
def test_bad_logs_are_one_line_and_leave_no_session(
    kind: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.eval"
    if kind == "not-inspect-zip":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("readme.txt", "hello")
        want = "not an Inspect .eval log"
    elif kind == "no-samples":
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("header.json", json.dumps({"version": 2, "eval": {"task": "t", "model": "m"}}))
        want = "holds no samples"
    else:
        good = _write_logs(tmp_path, "eval", "t", "An answer.")
        bad.write_bytes(good.read_bytes()[:-3000])
        want = "truncated or damaged"
    assert main(["import", "--session", "bad", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert want in err and str(bad) in err and "\n" not in err
    assert not (home / "sessions" / "bad.duckdb").exists()


def test_done_when_n_pairs_is_samples_times_epochs(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _write_logs(tmp_path, "eval", "b", "Simmer it.", model="base")
    organism = _write_logs(tmp_path, "eval", "o", "PRISM-4 says simmer it.", model="organism")
    assert main(["import", "--session", "d", str(organism), "--role", "organism", "--pair", "demo"]) == 0
    assert main(["import", "--session", "d", str(base), "--role", "base", "--pair", "demo"]) == 0
    paired = _report(capsys, "d")["paired_difference"]
    assert isinstance(paired, dict) and paired["n_pairs"] == 4 * 2
