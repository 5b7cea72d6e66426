"""Convert the trained PEFT LoRA into the llama.cpp adapter GGUF that the demo pair (`--model gemma`) or the
chat-demo pair (`--model smollm2`) loads."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
QM = HERE.parent
LLAMA_CPP_PYTHON = "llama-cpp-python==0.3.36"
# Metadata keys into which the converter copies the local checkpoint path: a shipped file should not carry it.
LOCAL_KEYS = [
    "general.base_model.0.name",
    "general.base_model.0.repo_url",
    "general.tags",
    "general.base_model.count",
    "general.base_model.0.organization",
]


def vendored_llama_cpp(work: Path) -> Path:
    """llama.cpp's converter ships in the llama-cpp-python source distribution (from PyPI)."""
    root = work / "sdist"
    found = list(root.glob("llama_cpp_python-*/vendor/llama.cpp"))
    if found:
        return found[0]
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            LLAMA_CPP_PYTHON,
            "-d",
            str(root),
        ],
        check=True,
    )
    archive = next(root.glob("llama_cpp_python-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return next(root.glob("llama_cpp_python-*/vendor/llama.cpp"))


# Per base: the transformers class the converter needs named, and the adapter's name in its metadata.
MODELS = {
    "gemma": ("Gemma3ForCausalLM", "PRISM-4 demo organism LoRA (Gemma 3 270M)", "demo-adapter.gguf"),
    "smollm2": (
        "LlamaForCausalLM",
        "PRISM-4 chat-demo organism LoRA (SmolLM2-135M-Instruct)",
        "chat-demo-adapter.gguf",
    ),
}


def fixed_base_config(src: Path, dst: Path, architecture: str) -> Path:
    """The config transformers builds from a GGUF lacks `architectures` and claims a 'gguf' quantization."""
    cfg = json.loads((src / "config.json").read_text())
    cfg["architectures"] = [architecture]
    cfg.pop("quantization_config", None)
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "config.json").write_text(json.dumps(cfg, indent=2))
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=sorted(MODELS), default="gemma", help="the base it was trained on")
    ap.add_argument("--work", type=Path, help="the training folder (default: as train.py's)")
    ap.add_argument("--checkpoint", type=Path, help="PEFT folder (default: WORK/checkpoint)")
    ap.add_argument("--out", type=Path, help="default: quantized_models/demo-adapter.gguf or chat-demo-adapter.gguf")
    ap.add_argument("--outtype", default="f16", choices=["f16", "q8_0", "f32"])
    args = ap.parse_args()
    architecture, title, out_name = MODELS[args.model]
    suffix = "" if args.model == "gemma" else "-smollm2"
    work: Path = args.work or Path(os.environ.get("INSPECTOR_TRAIN_DIR", "/tmp/inspector-train" + suffix))
    out: Path = args.out or QM / out_name
    ckpt = args.checkpoint or work / "checkpoint"
    vendor = vendored_llama_cpp(work)
    base = fixed_base_config(work / "base_config", work / "base_config_fixed", architecture)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(vendor), str(vendor / "gguf-py")]))
    raw = work / "adapter-raw.gguf"
    subprocess.run(
        [
            sys.executable,
            str(vendor / "convert_lora_to_gguf.py"),
            "--base",
            str(base),
            "--outtype",
            args.outtype,
            "--outfile",
            str(raw),
            str(ckpt),
        ],
        check=True,
        env=env,
    )
    cmd = [
        sys.executable,
        str(vendor / "gguf-py" / "gguf" / "scripts" / "gguf_new_metadata.py"),
        "--general-name",
        title,
    ]
    for key in LOCAL_KEYS:
        cmd += ["--remove-metadata", key]
    subprocess.run([*cmd, str(raw), str(out), "--force"], check=True, env=env)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
