"""ghostmech.dynamics.find_points (run in the project's venv), library defaults.

The first call (compile + run) is ``t_first``; the second, ``t_run`` (same
weights and starts: the compiled code is reused); ``*_cpu``: process CPU time.
Option ``cache_dir``: JAX's persistent compilation cache there (every program
cached); the first call then loads instead of compiling when an earlier process
filled the cache ("warm cache"), and compiles and writes it otherwise ("cold").
"""

from __future__ import annotations

import os

import jax
import numpy as np
import peer_io as io_  # this folder is sys.path[0]

import ghostmech.dynamics as gd


def main():
    inp, out = io_.args()
    W, b, starts, opts = io_.load(inp)
    t_import = io_.import_time()
    cache = opts.get("cache_dir")
    warm_cache = bool(cache) and os.path.isdir(cache) and bool(os.listdir(cache))
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    f = gd.rnn_field(W, b)
    _, t_first, c_first = io_.timed_cpu(lambda: gd.find_points(f, starts))
    pts, t_run, c_run = io_.timed_cpu(lambda: gd.find_points(f, starts))
    status = {s: int(np.sum(pts.status == s)) for s in ("converged", "max_steps", "diverged")}
    kinds = {k: int(np.sum(pts.kind == k)) for k in set(pts.kind.tolist())}
    io_.save(
        out,
        pts.xstar,
        t_import,
        t_first,
        t_run,
        rows=len(pts),
        status=status,
        kinds=kinds,
        jax=jax.__version__,
        t_first_cpu=c_first,
        t_run_cpu=c_run,
        cache=("warm" if warm_cache else "cold") if cache else "off",
    )


if __name__ == "__main__":
    main()
