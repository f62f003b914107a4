"""ghostmech.dynamics.find_points (run in the project's venv), library defaults.

The first call (compile + run) is ``t_first``; the second, ``t_run`` (same
weights and starts: the compiled code is reused); ``*_cpu``: process CPU time.
Option ``cache_dir``: JAX's persistent compilation cache there, with the settings
the ``ghostmech`` command line uses (``ghostmech.cli._cache``: programs that take
at least 0.5 s to compile are cached); the first call then loads those instead of
compiling when an earlier process filled the cache ("warm cache"), and compiles
and writes them otherwise ("cold").
"""

from __future__ import annotations

import os

import jax
import numpy as np
import peer_io as io_  # this folder is sys.path[0]

import ghostmech.dynamics as gd
from ghostmech.cli._cache import enable_compilation_cache


def main():
    inp, out = io_.args()
    W, b, starts, opts = io_.load(inp)
    t_import = io_.import_time()
    cache = opts.get("cache_dir")
    warm_cache = bool(cache) and os.path.isdir(cache) and bool(os.listdir(cache))
    if cache:  # what `ghostmech analyze` gets (the CLI's cache, in this folder)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = cache
        enable_compilation_cache()
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
