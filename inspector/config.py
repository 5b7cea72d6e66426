"""Typed settings: where sessions, caches and model pairs live (INSPECTOR_HOME moves them)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

# The source checkout: quantized_models/ sits beside the package, not inside it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Paths and defaults resolved once from the environment."""

    home: Path
    cache: Path
    models_file: Path
    labeler: str

    @property
    def sessions(self) -> Path:
        return self.home / "sessions"

    def session_path(self, name: str) -> Path:
        # A name with a slash or a .duckdb suffix is taken as a path, so users can keep sessions anywhere.
        if name.endswith(".duckdb") or os.sep in name:
            return Path(name)
        return self.sessions / f"{name}.duckdb"


def load_settings() -> Settings:
    home = Path(os.environ.get("INSPECTOR_HOME", str(PROJECT_ROOT))).expanduser()
    cache = Path(os.environ.get("INSPECTOR_CACHE", str(home / ".cache"))).expanduser()
    models = Path(
        os.environ.get("INSPECTOR_MODELS", str(PROJECT_ROOT / "quantized_models" / "models.toml"))
    ).expanduser()
    labeler = os.environ.get("INSPECTOR_LABELER") or _user()
    return Settings(home=home, cache=cache, models_file=models, labeler=labeler)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers): a fixed name beats a crash.
        return "labeler"
