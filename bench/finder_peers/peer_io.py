"""Shared by the peer scripts (stdlib + numpy only: it runs in every venv)."""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np


def import_time() -> float:
    """Seconds since the harness spawned this process (``BENCH_T_SPAWN``, wall clock)."""
    return time.time() - float(os.environ.get("BENCH_T_SPAWN", time.time()))


def load(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    d = np.load(path)
    return d["W"], d["b"], d["starts"], json.loads(str(d["opts"]))


def save(path: str, x, t_import: float, t_first: float, t_run: float, **info) -> None:
    info |= {"threads_env": {k: os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "XLA_FLAGS")}}
    np.savez(
        path,
        x=np.asarray(x, dtype=np.float64).reshape(-1, np.asarray(x).shape[-1]),
        t_import=t_import,
        t_first=t_first,
        t_run=t_run,
        info=json.dumps(info, default=str),
    )


def timed(fn):
    """(result, seconds) of ``fn()``."""
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def timed_cpu(fn):
    """(result, wall seconds, process CPU seconds over all threads) of ``fn()``."""
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def args() -> tuple[str, str]:
    if len(sys.argv) != 3:
        raise SystemExit(f"usage: {sys.argv[0]} IN.npz OUT.npz")
    return sys.argv[1], sys.argv[2]
