"""A real install: the wheel in a fresh venv, run from another folder, keeps the user's data out of site-packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.config import PROJECT_ROOT

pytestmark = pytest.mark.integration


def _uv() -> str:
    # uv is a dev dependency (and what `make` sets the venv up with): it sits beside this interpreter.
    uv = Path(sys.executable).parent / "uv"
    assert uv.exists(), f"{uv}: missing; install the project with its dev extra"
    return str(uv)


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_wheel_runs_from_any_folder_and_writes_nothing_into_site_packages(tmp_path: Path) -> None:
    uv = _uv()
    dist = tmp_path / "dist"
    # sdist first, then the wheel from the sdist: what pip, pipx and `uv tool install` get from a clone.
    subprocess.run([uv, "build", "--quiet", "--out-dir", str(dist), str(PROJECT_ROOT)], check=True)
    wheel = next(dist.glob("*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    # llama-cpp-python comes from this machine's wheelhouse, as in `make` (its build takes minutes).
    where = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(PROJECT_ROOT), "wheelhouse"], capture_output=True, text=True
    )
    wheelhouse = where.stdout.strip().splitlines()[-1]
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, "--find-links", wheelhouse, str(wheel)], check=True
    )
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "inspector" / "demo" / "demo-adapter.gguf").is_file()  # the demo pair is package data
    before = _tree(site)

    user_home, elsewhere = tmp_path / "user", tmp_path / "elsewhere"
    user_home.mkdir()
    elsewhere.mkdir()
    # A user's environment: no INSPECTOR_* overrides, the platform's folders under their home, no bytecode files
    # (Python's own caches would otherwise land in site-packages on first import; they are not ours to judge).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPECTOR_", "XDG_", "VIRTUAL_ENV"))}
    env.update(HOME=str(user_home), PYTHONDONTWRITEBYTECODE="1")
    exe = str(venv / "bin" / "inspector")
    version = subprocess.run([exe, "--version"], cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert version.stdout.startswith("inspector 0.")
    run = subprocess.run(
        [exe, "run", "--pair", "demo", "--limit", "1", "--max-tokens", "4"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    session = user_home / ".local" / "share" / "organism-inspector" / "sessions" / "demo.duckdb"
    assert session.is_file(), run.stderr
    assert (user_home / ".cache" / "organism-inspector" / "models").is_dir()  # the assembled Gemma GGUF
    assert str(session) in run.stderr  # `run` says where the session went
    assert _tree(site) == before  # nothing written, changed or deleted inside site-packages
    assert list(elsewhere.iterdir()) == []  # nor in the folder it was run from
