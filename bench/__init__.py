"""Benchmarks against peers (not part of the test suite). Run ``python -m bench.run_all``.

Importing this package pins every numerical library to ONE thread before jax or
torch load (so ``python -m bench.<script>`` is always pinned): ``OMP_NUM_THREADS``,
``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` = 1, XLA's CPU backend without its
Eigen thread pool; torch is pinned by `bench.common.pin_torch`. Set
``BENCH_XLA_FLAGS`` to try other XLA flags (replaces the default ``XLA_FLAGS``).
"""

import os
import sys

XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false"
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": XLA_FLAGS,
}
if "jax" in sys.modules or "torch" in sys.modules:  # pragma: no cover - misuse guard
    raise RuntimeError("import bench before jax / torch so that thread pinning takes effect")
THREAD_ENV["XLA_FLAGS"] = os.environ.get("BENCH_XLA_FLAGS", THREAD_ENV["XLA_FLAGS"])
os.environ.update(THREAD_ENV)
