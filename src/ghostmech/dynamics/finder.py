"""Speed-minimum finder: fixed points, slow points and ghosts of any flow ẋ = f(x).

Minimises q(x) = ½‖f(x)‖² from every start, in float64, jitted and vmapped
(``vmap`` of a ``while_loop``: a finished point is masked and stops moving):

1. damped Gauss-Newton (Levenberg-Marquardt on the residual f):
   δ = −(JᵀJ + λ h I)⁻¹ Jᵀf, accepted when q decreases;
2. polish by damped Newton on ∇q: δ = −(∇²q + λ h I)⁻¹ ∇q, which converges
   quadratically to fixed points AND to slow points (where JᵀJ is singular).

Tolerances are relative: xscale = RMS norm of the starts, fscale = median
‖f(start)‖ (each 1 when zero). A point is

* converged  when ‖f‖ ≤ ftol·fscale, or an accepted step with λ < 1 has
  ‖δ‖ ≤ xtol·xscale, or q has not fallen by a relative 1e-10 in 8 steps (the
  rounding floor: near a ghost the minimum of q is flat along v);
* diverged   when it leaves the ball ‖x − x₀‖ ≤ diverge·xscale or turns non-finite;
* max_steps  otherwise.

Converged points closer than dedup_tol·xscale are merged; every non-converged
start is kept with its status (nothing is dropped).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ghostmech._checks import check_positive_int
from ghostmech.dynamics.ghost import ghost_epsilon
from ghostmech.dynamics.points import STATUSES, Points, assemble
from ghostmech.dynamics.speed import check_field, check_starts, check_tol

__all__ = ["find_points", "minimise_speed"]

_RUNNING = -1
_PATIENCE = 8  # steps without a relative decrease of q > _QREL: at the precision limit
_QREL = 1e-10


def _derivatives(f, x):
    """f, J and the Hessian of q, H = JᵀJ + Σᵢ fᵢ ∇²fᵢ.

    H is built forward-over-reverse (``jacfwd`` of the VJP giving ∇q = Jᵀf):
    about 30x cheaper than forward-over-forward at N = 128 (bench/bench_finder.py).
    """

    def grad_q(y):
        fy, vjp = jax.vjp(f, y)
        return vjp(fy)[0]

    fx, J = f(x), jax.jacfwd(f)(x)
    H = jax.jacfwd(grad_q)(x)
    return fx, J, H


def _minimise_one(f, x0, tols, max_steps: int, polish_steps: int):
    """Stage 0 (Gauss-Newton model JᵀJ), then stage 1 (full Hessian of q), one loop."""
    xscale, fscale, ftol, xtol, diverge = tols
    n = x0.shape[0]
    eye = jnp.eye(n, dtype=x0.dtype)

    def q(x):
        fx = f(x)
        return 0.5 * jnp.vdot(fx, fx)

    def verdict(x, qx, stuck, small, k, stage):
        fixed = jnp.sqrt(2.0 * qx) <= ftol * fscale
        bad = ~jnp.all(jnp.isfinite(x)) | (jnp.linalg.norm(x - x0) > diverge * xscale)
        done = small | (stuck >= _PATIENCE)
        limit = jnp.where(stage == 0, max_steps, polish_steps)
        out = jnp.where(k >= limit, 1, _RUNNING)
        return jnp.where(bad, 2, jnp.where(fixed | done, 0, out))

    def body(state):
        x, qx, lam, stuck, k, stage, _ = state
        fx, J, H = _derivatives(f, x)
        H = jnp.where(stage == 0, J.T @ J, H)
        h = jnp.maximum(jnp.trace(jnp.abs(H)) / n, jnp.finfo(x.dtype).tiny)
        delta = -jnp.linalg.solve(H + lam * h * eye, J.T @ fx)
        x_new = x + delta
        q_new = q(x_new)
        ok = jnp.isfinite(q_new) & (q_new <= qx) & jnp.all(jnp.isfinite(x_new))
        small = ok & (lam < 1.0) & (jnp.linalg.norm(delta) <= xtol * xscale)
        progress = ok & (q_new < qx * (1.0 - _QREL))
        stuck = jnp.where(progress, 0, stuck + 1)
        x, qx = jnp.where(ok, x_new, x), jnp.where(ok, q_new, qx)
        lam = jnp.where(ok, jnp.maximum(lam * 0.3, 1e-15), lam * 10.0)
        status = verdict(x, qx, stuck, small, k + 1, stage)
        fixed = jnp.sqrt(2.0 * qx) <= ftol * fscale
        # end of stage 0 (not diverged, not already a fixed point): restart as stage 1
        nxt = (stage == 0) & (status != _RUNNING) & (status != 2) & ~fixed
        return (
            x,
            qx,
            jnp.where(nxt, 1e-3, lam),
            jnp.where(nxt, 0, stuck),
            jnp.where(nxt, 0, k + 1),
            jnp.where(nxt, 1, stage),
            jnp.where(nxt, _RUNNING, status),
        )

    q0 = q(x0)
    lam0 = jnp.asarray(1e-3, x0.dtype)
    init = (x0, q0, lam0, 0, 0, 0, verdict(x0, q0, 0, False, 0, 0))
    x, qx, *_, status = jax.lax.while_loop(lambda s: s[-1] == _RUNNING, body, init)
    return x, qx, status


def _scales(f, starts, n_real):
    """xscale = RMS ‖start‖, fscale = median ‖f(start)‖ over the first ``n_real`` rows
    (each 1 where 0 or non-finite)."""
    real = jnp.arange(starts.shape[0]) < n_real
    xscale = jnp.sqrt(jnp.sum(jnp.where(real, jnp.sum(starts**2, axis=1), 0.0)) / n_real)
    fn = jnp.linalg.norm(jax.vmap(f)(starts), axis=1)
    fscale = jnp.nanmedian(jnp.where(real & jnp.isfinite(fn), fn, jnp.nan))
    fix = lambda s: jnp.where(jnp.isfinite(s) & (s > 0), s, 1.0)  # noqa: E731
    return fix(xscale), fix(fscale)


@eqx.filter_jit
def minimise_speed(f, starts, n_real, rel_tols, max_steps: int, polish_steps: int):
    """Batched minimisation of q plus derivatives at the result, in one compiled program.

    ``rel_tols`` = (ftol, xtol, diverge). Returns x [S, n], q [S], status [S]
    (0 converged, 1 max_steps, 2 diverged), J [S, n, n], Hessian of q [S, n, n],
    :class:`GhostInfo` (valid at ghosts only) and (xscale, fscale).
    """
    xscale, fscale = _scales(f, starts, n_real)
    tols = (xscale, fscale, *rel_tols)

    def one(x0):
        x, qx, status = _minimise_one(f, x0, tols, max_steps, polish_steps)
        y = jnp.nan_to_num(x)
        _, J, H = _derivatives(f, y)
        return x, qx, status, J, H, ghost_epsilon(f, y)

    return (*jax.vmap(one)(starts), (xscale, fscale))


def _pad(starts: np.ndarray) -> np.ndarray:
    """Pad to 16·2^k rows (copies of row 0) so few batch sizes are ever compiled."""
    size = 16
    while size < len(starts):
        size *= 2
    return np.concatenate([starts, np.repeat(starts[:1], size - len(starts), axis=0)])


def find_points(
    f: Callable[[Float[Array, " n"]], Float[Array, " n"]],
    starts,
    *,
    ftol: float = 1e-10,
    xtol: float = 1e-9,
    dedup_tol: float = 1e-5,
    eig_tol: float = 1e-7,
    diverge: float = 1e3,
    max_steps: int = 100,
    polish_steps: int = 50,
) -> Points:
    """Find and classify the speed minima of ``f`` reached from ``starts`` [S, n].

    Returns :class:`~ghostmech.dynamics.points.Points` with ``xstar``, ``qstar``,
    ``J_xstar``, ``eigval_J_xstar``, ``kind``, ``status`` (and ε, u, v, dwell
    time for ghosts). See the module docstring for the tolerances.

    >>> import jax.numpy as jnp
    >>> pts = find_points(lambda x: -0.25 + x**2, jnp.array([[-1.0], [1.0]]))
    >>> sorted(zip(pts.xstar[:, 0].round(6).tolist(), pts.kind.tolist()))
    [(-0.5, 'stable_node'), (0.5, 'unstable')]
    """
    starts = check_starts(starts)
    check_field(f, starts.shape[1])
    tols_py = [
        check_tol(k, v)
        for k, v in dict(
            ftol=ftol, xtol=xtol, dedup_tol=dedup_tol, eig_tol=eig_tol, diverge=diverge
        ).items()
    ]
    max_steps = check_positive_int("max_steps", max_steps)
    polish_steps = check_positive_int("polish_steps", polish_steps)
    with jax.enable_x64(True):
        rel = tuple(jnp.asarray(tols_py[i], jnp.float64) for i in (0, 1, 4))
        out = minimise_speed(
            f, jnp.asarray(_pad(starts)), jnp.asarray(len(starts)), rel, max_steps, polish_steps
        )
        out = jax.tree_util.tree_map(np.asarray, out)
    s = len(starts)  # the padded rows repeat start 0 and are dropped here
    x, q, status, J, H = (a[:s] for a in out[:5])
    g, scales = jax.tree_util.tree_map(lambda a: a[:s], out[5]), out[6]
    xscale, fscale = float(scales[0]), float(scales[1])
    names = np.array([STATUSES[int(s)] for s in status], dtype=object)
    return assemble(
        x, q, names, J, H, g, xscale, fscale, ftol=ftol, dedup_tol=dedup_tol, eig_tol=eig_tol
    )
