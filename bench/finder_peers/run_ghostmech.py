"""ghostmech.dynamics.find_points (run in the project's venv).

opts: ``fwdrev`` (bool) replaces ``ghostmech.dynamics.finder._derivatives`` in THIS
process by a forward-over-reverse Hessian (H = jacfwd(vjp(f)ᵀf), O(n³) per point
instead of the library's O(n⁴) forward-over-forward). It is a measurement of a
proposed fix, not library code. The first call (compile + run) is ``t_first``; the
second, ``t_run``.
"""

from __future__ import annotations

import jax
import numpy as np
import peer_io as io_  # this folder is sys.path[0]

import ghostmech.dynamics as gd
import ghostmech.dynamics.finder as gfinder


def _fwdrev(f, x):
    """f, J and H = ∂(Jᵀf)/∂x with ∇q from one vjp and H from n forward passes over it."""
    fx, J = f(x), jax.jacfwd(f)(x)
    H = jax.jacfwd(lambda y: jax.vjp(f, y)[1](f(y))[0])(x)
    return fx, J, H


def main():
    inp, out = io_.args()
    W, b, starts, opts = io_.load(inp)
    if opts.get("fwdrev"):
        gfinder._derivatives = _fwdrev
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
        fwdrev=bool(opts.get("fwdrev")),
    )


if __name__ == "__main__":
    main()
