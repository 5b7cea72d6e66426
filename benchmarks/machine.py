"""The line every benchmark prints first: the CPU its figures were measured on (speeds differ between CPUs)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_line() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "")
    flags = next((set(ln.split(":", 1)[1].split()) for ln in info.splitlines() if ln.startswith("flags")), set())
    simd = ", ".join(f for f in ("avx2", "avx512f") if f in flags) or "no avx2"
    return f"CPU: {model or platform.processor() or platform.machine()} ({simd}), {os.cpu_count()} cores"
