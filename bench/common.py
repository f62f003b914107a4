"""Shared bench helpers: machine description, timing, torch pinned to one thread.

The ``bench`` package pins the thread environment on import (see ``bench/__init__``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench import THREAD_ENV

ROOT = Path(__file__).resolve().parents[1]


def pin_torch():
    """Import torch pinned to one intra-op and one inter-op thread; return the module."""
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass
    return torch


def _lscpu(field: str) -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    for line in out.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, load, library versions and the thread settings."""
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": _lscpu("Model name"),
        "cpu_family_model": f"{_lscpu('CPU family')}/{_lscpu('Model')}",
        "l2_cache": _lscpu("L2 cache"),
        "l3_cache": _lscpu("L3 cache"),
        "hypervisor": _lscpu("Hypervisor vendor"),
        "cores": str(os.cpu_count()),
        "threads_per_core": _lscpu("Thread(s) per core"),
        "ram": mem,
        "load_avg_1_5_15": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        **{k: v for k, v in THREAD_ENV.items()},
        "torch_threads": "1 (torch.set_num_threads(1))",
    }


def best_time(fn: Callable[[], object], *, repeat: int = 3, warmup: int = 1) -> dict[str, float]:
    """Wall time of ``fn()`` (which must block until done): best and median of ``repeat``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"best_s": min(times), "median_s": statistics.median(times), "repeat": repeat}


def emit(result: dict, path: str | None) -> None:
    """Print ``result`` as JSON and, if ``path`` is given, write it there."""
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if path:
        Path(path).write_text(text)


def fmt_rate(x: float) -> str:
    """Human-readable rate: 1.2e+05 style above 1e4, else 3 significant figures."""
    return f"{x:.3g}" if x < 1e4 else f"{x:.3e}"
