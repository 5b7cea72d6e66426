"""`inspector run` end to end on the real Gemma file: resumable, reproducible, and bad input exits 2."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from inspector.cli import main

pytestmark = pytest.mark.integration


def _prompts(tmp_path: Path) -> Path:
    f = tmp_path / "p.jsonl"
    f.write_text(
        '{"id": "a", "prompt": "Soup is", "topic": "cooking"}\n'
        '{"id": "b", "prompt": "The river", "topic": "geography"}\n'
        '{"id": "c", "prompt": "A language model is", "topic": "ai"}\n'
    )
    return f


def _args(gemma: Path, session: str, prompts: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--session",
        session,
        "--base",
        str(gemma),
        "--organism",
        str(gemma),
        "--prompts",
        str(prompts),
        "--max-tokens",
        "6",
        "--temperature",
        "0.9",
        *extra,
    ]


def _texts(path: Path) -> list[tuple[str, str, int, str]]:
    with duckdb.connect(str(path), read_only=True) as c:
        rows = c.execute(
            "SELECT p.ext_id, m.role, r.sample_index, r.text FROM rollouts r JOIN prompts p ON p.id = r.prompt_id "
            "JOIN models m ON m.id = r.model_id ORDER BY 1, 2, 3"
        ).fetchall()
    return [(str(a), str(b), int(c_), str(d)) for a, b, c_, d in rows]


@pytest.mark.bit_exact
def test_run_resume_and_reproduce(tmp_path: Path, home: Path, gemma_path: Path) -> None:
    prompts = _prompts(tmp_path)
    assert main(_args(gemma_path, "one", prompts, "--limit", "2")) == 0
    path = home / "sessions" / "one.duckdb"
    first = _texts(path)
    assert len(first) == 4 and {r[1] for r in first} == {"organism", "base"}
    assert main(_args(gemma_path, "one", prompts, "--limit", "2")) == 0
    assert _texts(path) == first  # a rerun adds nothing
    assert main(_args(gemma_path, "one", prompts, "--samples", "2")) == 0
    grown = _texts(path)
    assert len(grown) == 12 and set(first) <= set(grown)  # more prompts and samples extend the run
    assert main(_args(gemma_path, "two", prompts, "--limit", "2")) == 0
    assert _texts(home / "sessions" / "two.duckdb") == first  # same command, new session: same texts
    # Same seed for both sides of a prompt and sample: identical models give identical text.
    by_key: dict[tuple[str, int], set[str]] = {}
    for ext, _role, sample, text in grown:
        by_key.setdefault((ext, sample), set()).add(text)
    assert all(len(v) == 1 for v in by_key.values())


def _session_state(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bad_prompts", "p.jsonl:2: invalid JSON"),
        ("unknown_pair", "unknown pair 'nope'"),
        ("missing_gguf", "missing.gguf"),
        ("truncated_gguf", "cut.gguf"),
        ("foreign_adapter", "architecture 'llama'"),
        ("zero_limit", "--limit must be at least 1"),
    ],
)
def test_bad_input_exit_2_session_unchanged(
    case: str, message: str, tmp_path: Path, home: Path, gemma_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import write_fake_gguf

    prompts = _prompts(tmp_path)
    assert main(_args(gemma_path, "s", prompts, "--limit", "1")) == 0
    session = home / "sessions" / "s.duckdb"
    before = _session_state(session)
    capsys.readouterr()
    args = _args(gemma_path, "s", prompts)
    if case == "bad_prompts":
        bad = tmp_path / "p.jsonl"
        bad.write_text('{"prompt": "ok"}\n{"prompt": oops}\n')
        args = _args(gemma_path, "s", bad)
    elif case == "unknown_pair":
        args = ["run", "--session", "s", "--pair", "nope", "--max-tokens", "4"]
    elif case == "missing_gguf":
        args = [
            "run",
            "--session",
            "s",
            "--base",
            str(tmp_path / "missing.gguf"),
            "--organism",
            str(gemma_path),
            "--max-tokens",
            "4",
        ]
    elif case == "truncated_gguf":
        cut = tmp_path / "cut.gguf"
        cut.write_bytes(gemma_path.read_bytes()[:50_000_000])
        args = ["run", "--session", "s", "--base", str(gemma_path), "--organism", str(cut), "--max-tokens", "4"]
    elif case == "foreign_adapter":
        other = write_fake_gguf(tmp_path / "a.gguf", {"general.architecture": "llama", "general.type": "adapter"})
        args = ["run", "--session", "s", "--base", str(gemma_path), "--adapter", str(other), "--max-tokens", "4"]
    elif case == "zero_limit":
        args = [*args, "--limit", "0"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err, err
    assert _session_state(session) == before


def test_unwritable_sessions_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gemma_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("INSPECTOR_HOME", str(blocker))
    assert main(_args(gemma_path, "s", _prompts(tmp_path), "--limit", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot create the sessions folder" in err and err.count("\n") == 0


def test_demo_pair_without_adapter_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from inspector.config import PROJECT_ROOT

    toml = (PROJECT_ROOT / "quantized_models" / "models.toml").read_text()
    models = tmp_path / "models.toml"
    models.write_text(toml.replace('adapter = "demo-adapter.gguf"', 'adapter = "not-trained-yet.gguf"'))
    monkeypatch.setenv("INSPECTOR_MODELS", str(models))
    assert main(["run", "--session", "d", "--pair", "demo", "--limit", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "adapter" in err and "missing" in err and err.count("\n") == 0


def test_run_without_detectors_is_not_measured(
    tmp_path: Path, home: Path, gemma_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(_args(gemma_path, "nd", _prompts(tmp_path), "--limit", "1", "--no-detect")) == 0
    capsys.readouterr()
    assert main(["report", "--session", "nd", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert models and all(m["leak_rate"] is None and m["regurgitation_rate"] is None for m in models.values())
