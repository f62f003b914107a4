"""ghostmech.dynamics.find_points (run in the project's venv), library defaults.

The first call (compile + run) is ``t_first``; the second, ``t_run`` (same
weights and starts: the compiled code is reused).
"""

from __future__ import annotations

import jax
import numpy as np
import peer_io as io_  # this folder is sys.path[0]

import ghostmech.dynamics as gd


def main():
    inp, out = io_.args()
    W, b, starts, _ = io_.load(inp)
    t_import = io_.import_time()
    f = gd.rnn_field(W, b)
    _, t_first = io_.timed(lambda: gd.find_points(f, starts))
    pts, t_run = io_.timed(lambda: gd.find_points(f, starts))
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
    )


if __name__ == "__main__":
    main()
