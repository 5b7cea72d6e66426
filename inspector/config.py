"""Typed settings: where sessions, caches and model pairs live (INSPECTOR_HOME moves them).

Two ways to run, two homes. From a source checkout (`make run`, an editable install) sessions/ and .cache/ sit in
the checkout, beside quantized_models/. Installed as a tool (pip, pipx, uv tool) there is no checkout: sessions go
to the platform's user data folder and caches to its user cache folder (platformdirs), never into site-packages,
where rebuilding the environment would delete them, and the demo pair comes from the package (inspector/demo/)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "organism-inspector"
PACKAGE_DIR = Path(__file__).resolve().parent
# The source checkout: quantized_models/ sits beside the package, not inside it.
PROJECT_ROOT = PACKAGE_DIR.parent


def in_checkout() -> bool:
    """Running from a source checkout (not from site-packages)?"""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "quantized_models" / "models.toml").is_file()


def default_models_file() -> Path:
    """The checkout's quantized_models/models.toml, else the copy the wheel ships (see setup.py)."""
    if in_checkout():
        return PROJECT_ROOT / "quantized_models" / "models.toml"
    return PACKAGE_DIR / "demo" / "models.toml"


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
    import platformdirs

    if os.environ.get("INSPECTOR_HOME"):
        home = Path(os.environ["INSPECTOR_HOME"]).expanduser()
        cache = home / ".cache"
    elif in_checkout():
        home, cache = PROJECT_ROOT, PROJECT_ROOT / ".cache"
    else:
        home = platformdirs.user_data_path(APP_NAME)
        cache = platformdirs.user_cache_path(APP_NAME)
    if os.environ.get("INSPECTOR_CACHE"):
        cache = Path(os.environ["INSPECTOR_CACHE"]).expanduser()
    models = Path(os.environ.get("INSPECTOR_MODELS") or default_models_file()).expanduser()
    labeler = os.environ.get("INSPECTOR_LABELER") or _user()
    return Settings(home=home, cache=cache, models_file=models, labeler=labeler)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers): a fixed name beats a crash.
        return "labeler"
