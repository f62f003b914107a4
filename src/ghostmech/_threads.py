"""One matrix-product code path in every process: XLA's CPU matmuls on one thread.

XLA runs a CPU matmul either through Eigen's multi-threaded contraction or through its
single-threaded kernel, chosen by ``--xla_cpu_multi_thread_eigen``. The two sum in
different orders: on an AMD EPYC with AVX2 (family 25 model 1) a 6-unit network trained
with Adam for 10 epochs had 46 of 80 losses differ, up to 4 % relative, between the two
(tests/training/test_training_sweep.py::test_two_processes_give_the_loop_result_bitwise,
2026-12-07); on an AVX-512 box they agreed. The worker processes that train parts of a
grid run on one thread each (one process per core), so a network trained in the driver
process must use the same single-threaded path, or its numbers would depend on where it
ran. The threaded path may also split a long sum over threads, which would make the bits
depend on the number of cores; the single-threaded one cannot.

`use_one_thread()` adds ``--xla_cpu_multi_thread_eigen=false`` to ``$XLA_FLAGS`` unless the
flag is already there (a user who sets it keeps their choice, and the workers inherit
it). ``import ghostmech`` calls it; XLA reads the flag when JAX first starts its CPU
backend, so JAX must not have computed anything before ghostmech is imported, else a
warning says so.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import MutableMapping

__all__ = ["FLAG", "ONE_THREAD", "with_one_thread", "use_one_thread", "matmul_threads"]

FLAG = "--xla_cpu_multi_thread_eigen"
ONE_THREAD = f"{FLAG}=false"


def _setting(flags: str) -> str | None:
    """The value ``flags`` (an ``$XLA_FLAGS`` value) give `FLAG` (the last one), or None."""
    values = [f.partition("=")[2] for f in flags.split() if f.partition("=")[0] == FLAG]
    return values[-1] if values else None


def with_one_thread(flags: str) -> str:
    """``flags`` (an ``$XLA_FLAGS`` value) with `ONE_THREAD` added unless `FLAG` is set."""
    return flags if _setting(flags) is not None else f"{flags} {ONE_THREAD}".strip()


def matmul_threads(flags: str) -> str:
    """``"one"`` when ``flags`` turn Eigen's threads off, else ``"many"`` (XLA's default)."""
    return "one" if (_setting(flags) or "").lower() in ("false", "0") else "many"


def _backend_started() -> bool:
    """Whether JAX has already started a backend (then XLA_FLAGS no longer applies)."""
    bridge = sys.modules.get("jax._src.xla_bridge")
    return bool(bridge is not None and bridge.backends_are_initialized())


def use_one_thread(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put `ONE_THREAD` into ``environ["XLA_FLAGS"]`` unless `FLAG` is set; warn when JAX
    already runs with another setting (it computed before ``import ghostmech``)."""
    before = environ.get("XLA_FLAGS", "")
    environ["XLA_FLAGS"] = with_one_thread(before)
    if _setting(before) is None and _backend_started():
        warnings.warn(
            "JAX started its CPU backend before ghostmech was imported, so its matrix "
            "products run on several threads and may round differently from ghostmech's "
            "worker processes (one thread each). Import ghostmech before computing with "
            f"JAX, or set XLA_FLAGS={ONE_THREAD}.",
            RuntimeWarning,
            stacklevel=3,
        )
