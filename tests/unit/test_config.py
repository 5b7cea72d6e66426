"""Where sessions, caches and pairs live: INSPECTOR_HOME, a source checkout, or the user's platform folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector import config
from inspector.cli import build_parser, main


def test_inspector_home_moves_sessions_and_cache(home: Path) -> None:
    s = config.load_settings()
    assert s.sessions == home / "sessions"
    assert s.session_path("x") == home / "sessions" / "x.duckdb"


def test_checkout_keeps_sessions_in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSPECTOR_HOME")
    monkeypatch.delenv("INSPECTOR_CACHE")
    s = config.load_settings()
    assert config.in_checkout()
    assert s.home == config.PROJECT_ROOT and s.cache == config.PROJECT_ROOT / ".cache"
    assert s.models_file == config.PROJECT_ROOT / "quantized_models" / "models.toml"


def test_installed_copy_uses_the_platform_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("INSPECTOR_HOME", "INSPECTOR_CACHE", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(config, "in_checkout", lambda: False)
    s = config.load_settings()
    assert s.sessions == tmp_path / ".local" / "share" / "organism-inspector" / "sessions"
    assert s.cache == tmp_path / ".cache" / "organism-inspector"
    assert s.models_file == config.PACKAGE_DIR / "demo" / "models.toml"  # shipped in the wheel (setup.py)
    assert config.PACKAGE_DIR not in s.sessions.parents and config.PACKAGE_DIR not in s.cache.parents


def test_help_shows_defaults_app_options_and_where_sessions_go(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # argparse wraps help at the terminal's width
    top = build_parser().format_help()
    assert "app options" in top and "--screen" in top
    assert f"sessions: {home / 'sessions'}" in top
    run = build_parser()._subparsers._group_actions[0].choices["run"].format_help()  # type: ignore[union-attr]
    assert f"sessions: {home / 'sessions'}" in run
    for default in ("(default: 96)", "(default: 0.7)", "(default: 0.95)", "(default: 32)", "(default: demo)"):
        assert default in run, default


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("inspector 0.") and "llama-cpp-python" in out


def test_stream_speed_counts_from_the_first_token() -> None:
    from inspector.tui.speed import StreamSpeed

    speed = StreamSpeed(started=10.0)
    assert speed.describe() == "waiting for the first token"
    speed.add(10.5)
    assert speed.describe() == "first token 0.50 s"
    for k in range(1, 11):
        speed.add(10.5 + k * 0.05)  # ten more pieces in half a second
    assert speed.describe() == "first token 0.50 s · 20.0 tok/s"
