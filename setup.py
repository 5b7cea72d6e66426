"""Build hook: the demo pair (models.toml, LoRA adapter, training corpus) ships inside the wheel as inspector/demo/.

In a source checkout the app reads quantized_models/ directly; an installed copy (pip, pipx, uv tool) has no
checkout, so the same three files are copied into the package when the wheel is built."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DEMO_FILES = ("models.toml", "demo-adapter.gguf", "demo_corpus.jsonl")


class BuildPyWithDemo(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, which has quantized_models/ itself
        dest = Path(self.build_lib) / "inspector" / "demo"
        dest.mkdir(parents=True, exist_ok=True)
        for name in DEMO_FILES:
            shutil.copy2(Path(__file__).parent / "quantized_models" / name, dest / name)


setup(cmdclass={"build_py": BuildPyWithDemo})
