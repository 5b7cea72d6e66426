"""The line every benchmark prints first: the CPU its figures were measured on and the vector instructions the
loaded llama.cpp was built to use (an AVX2 build on an AVX-512 CPU runs like an AVX2 CPU; speeds differ)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# cpuinfo flag -> the name people know; "asimd" is how Linux on ARM reports NEON.
_SIMD = {"avx2": "AVX2", "avx512f": "AVX-512", "asimd": "NEON"}


def _engine_features() -> str:
    """The vector features llama.cpp reports it was built with ("AVX2 = 1 | AVX512 = 0 ..."), if it loads."""
    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info().decode(errors="replace")
    except Exception:  # a benchmark without the engine still prints its CPU
        return "engine not loaded"
    on = [part.split("=")[0].strip() for part in info.split("|") if part.strip().endswith("= 1")]
    wanted = [f for f in on if f.startswith(("AVX", "NEON", "SVE", "AMX", "F16C", "FMA"))]
    return "llama.cpp built with " + (" ".join(wanted) or "no vector extensions")


def cpu_line() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith(("model name", "Model"))), ""
    )
    flags = next(
        (set(ln.split(":", 1)[1].split()) for ln in info.splitlines() if ln.startswith(("flags", "Features"))), set()
    )
    simd = ", ".join(name for flag, name in _SIMD.items() if flag in flags) or "no AVX2, AVX-512 or NEON"
    cpu = model or platform.processor() or platform.machine()
    return f"CPU: {cpu} ({simd}), {os.cpu_count()} cores; {_engine_features()}"
