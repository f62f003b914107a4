"""Speed-minimum finder: fixed points, slow points and ghosts of any flow ẋ = f(x).

Minimises q(x) = ½‖f(x)‖² from every start, jitted and batched, in three stages:

1. every start: inexact Newton–Krylov on f (:mod:`._newton`), GMRES solves of
   J δ = −f with J applied by ``jax.linearize`` (no Jacobian is formed) and a
   backtracking line search on ‖f‖ that never crosses a ridge of q; float64 state
   and residual, float32 Krylov basis. A start stops early when the line search fails or ‖f‖ falls by less
   than √2 in 4 steps in a row (no root nearby: a slow point, ghost or saddle of q);
2. the starts that stage 1 left short of a fixed point (not diverged): damped
   Newton on ∇q, matrix-free (:mod:`._newton_q`): (∇²q + λ h I) δ = −∇q solved by
   conjugate gradients with float32 Hessian-vector products, a step only where the
   damped Hessian is positive definite on the Krylov space (so minima of q attract
   and saddles of q do not), q and ∇q float64; it converges to fixed points AND to
   slow points (where JᵀJ is singular and Levenberg–Marquardt on f crawls);
3. the starts still short of a fixed point, once per distinct point (converged
   starts closer than the merge radius share one polish): damped Newton on ∇q in
   float64 with the Hessian formed, δ = −(∇²q + λ h I)⁻¹ ∇q. Stages 1 and 2 may take
   ``max_steps`` steps each, stage 3 ``polish_steps``.

Between compiled calls the finished rows leave the batch, so late starts do not
keep the whole batch busy. J, the Hessian of q and ε (an SVD) are computed at the
end only for the distinct reported points (the Hessian and ε only where f ≠ 0).

Tolerances are relative: xscale = RMS norm of the starts, fscale = median
‖f(start)‖ (each 1 when zero). A point is

* converged  when ‖f‖ ≤ ftol·fscale, or an accepted step with α = 1 (stage 1) or
  λ < 1 (stages 2, 3) has ‖δ‖ ≤ xtol·xscale, or q has not fallen by a relative
  1e-10 in 8 steps (the rounding floor: near a ghost the minimum of q is flat along v);
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
from ghostmech.dynamics._newton import (
    QREL,
    RUNNING,
    in_dtype,
    newton_krylov,
    on_chunks,
    q_of,
    verdict,
)
from ghostmech.dynamics._newton_q import newton_grad
from ghostmech.dynamics.ghost import GhostInfo, ghost_epsilon
from ghostmech.dynamics.points import STATUSES, Points, assemble, representatives
from ghostmech.dynamics.speed import check_field, check_starts, check_tol

__all__ = ["find_points", "minimise_speed", "speed_scales"]

_ROWS = 16  # rows per compiled call of the damped steps (the polish runs once per distinct point)
_CHUNK = 8  # damped steps per compiled call; then the finished rows leave the batch
# (8 rather than 2: fewer host round trips, docs/benchmarks.md)


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


def _damped_step(f, x, lam, hessian: bool):
    """δ = −(M + λ h I)⁻¹ Jᵀf, h = tr|M|/n: M = ∇²q (float64, LU) when ``hessian``,
    else M = JᵀJ (Gauss–Newton; J formed in float32 — f's float leaves cast by
    `in_dtype`, x rounded — and a float32 Cholesky, NaN when not numerically PD).
    Acceptance is decided on the float64 q by the caller, so the float32 step only
    changes which steps are tried."""
    n = x.shape[0]
    if hessian:
        fx, J, M = _derivatives(f, x)
    else:
        fx = f(x)
        J = jax.jacfwd(in_dtype(f, jnp.float32))(x.astype(jnp.float32)).astype(jnp.float32)
        M = J.T @ J
    h = jnp.maximum(jnp.trace(jnp.abs(M)) / n, jnp.finfo(M.dtype).tiny)
    A = M + (lam * h).astype(M.dtype) * jnp.eye(n, dtype=M.dtype)
    rhs = (J.T @ fx.astype(J.dtype)).astype(M.dtype)
    if hessian:
        return -jnp.linalg.solve(A, rhs)
    d = jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(A), True), rhs)
    return -d.astype(x.dtype)


def _lm_steps(f, state, x0, tols, steps: int, chunk: int, hessian: bool):
    """Up to ``chunk`` damped steps (:func:`_damped_step`) from ``state`` =
    (x, q, λ, stuck, k, status), stopping at a verdict; λ ×0.3 on success, ×10 else."""
    xscale, xtol = tols[0], tols[3]

    def body(carry):
        (x, qx, lam, stuck, k, _), j = carry
        delta = _damped_step(f, x, lam, hessian)
        x_new = x + delta
        q_new = q_of(f, x_new)
        ok = jnp.isfinite(q_new) & (q_new <= qx) & jnp.all(jnp.isfinite(x_new))
        small = ok & (lam < 1.0) & (jnp.linalg.norm(delta) <= xtol * xscale)
        progress = ok & (q_new < qx * (1.0 - QREL))
        stuck = jnp.where(progress, 0, stuck + 1)
        x, qx = jnp.where(ok, x_new, x), jnp.where(ok, q_new, qx)
        lam = jnp.where(ok, jnp.maximum(lam * 0.3, 1e-15), lam * 10.0)
        status = verdict(x, x0, qx, stuck, small, k + 1, tols, steps)
        return (x, qx, lam, stuck, k + 1, status), j + 1

    def cond(carry):
        return (carry[0][-1] == RUNNING) & (carry[1] < chunk)

    return jax.lax.while_loop(cond, body, (state, 0))[0]


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
def speed_scales(f, starts, n_real):
    """(xscale, fscale) of the first ``n_real`` rows of ``starts`` (module docstring)."""
    return _scales(f, starts, n_real)


@eqx.filter_jit
def _advance(f, state, x0, scales, rel_tols, steps: int, chunk: int, hessian: bool):
    """``chunk`` more damped steps on a batch of states."""
    tols = (*scales, *rel_tols)
    one = lambda st, x0i: _lm_steps(f, st, x0i, tols, steps, chunk, hessian)  # noqa: E731
    return jax.vmap(one)(state, x0)


def minimise_speed(f, x, q, x0, scales, rel_tols, steps: int, *, hessian: bool):
    """Levenberg–Marquardt on f (``hessian`` False) or damped Newton on ∇q from
    x [S, n] with q(x) [S] (host arrays; starts x0 [S, n]).

    The finder uses it with ``hessian`` True (its stage 3); stage 2 is
    :func:`._newton_q.newton_grad`. Runs ``_CHUNK`` steps per compiled call on
    chunks of ``_ROWS`` rows and goes on with only the rows still running (one
    compiled shape). ``rel_tols`` = (ftol, xtol, diverge). Returns host arrays
    x [S, n], q [S], status [S] (0 converged, 1 max_steps, 2 diverged).
    """
    S = len(x)
    ints = [np.zeros(S, np.int32), np.zeros(S, np.int32), np.full(S, RUNNING, np.int32)]
    state = [
        np.array(x),
        np.array(q),
        np.full(S, 1e-3),
        *ints,
        x0,
    ]  # x, q, λ, stuck, k, status  # x, q, λ, stuck, k, status

    def advance(*a):
        return _advance(f, tuple(a[:-1]), a[-1], scales, rel_tols, steps, _CHUNK, hessian)

    live = np.arange(S)
    while live.size:
        on_chunks(advance, state, live, _ROWS)
        live = live[state[5][live] == RUNNING]
    return state[0], state[1], state[5]


@eqx.filter_jit
def jacobians(f, x):
    """J(x) [S, n, n] at x [S, n] (non-finite entries of x read as 0)."""
    return jax.vmap(jax.jacfwd(f))(jnp.nan_to_num(x))


@eqx.filter_jit
def slow_point_data(f, x):
    """Hessian of q [S, n, n] and :class:`GhostInfo` at slow points x [S, n]."""

    def one(y):
        return _derivatives(f, y)[2], ghost_epsilon(f, y)

    return jax.vmap(one)(jnp.nan_to_num(x))


def _pad(starts: np.ndarray) -> np.ndarray:
    """Pad to 16·2^k rows (copies of row 0) so few batch sizes are ever compiled."""
    size = 16
    while size < len(starts):
        size *= 2
    return np.concatenate([starts, np.repeat(starts[:1], size - len(starts), axis=0)])


def _batched(fn, *arrays):
    """``fn`` on the rows of ``arrays`` padded by :func:`_pad`, cut back to host arrays."""
    m = len(arrays[0])
    out = fn(*(jnp.asarray(_pad(np.asarray(a))) for a in arrays))
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[:m], out)


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
        x, q, status, scales = _stages(f, starts, rel, max_steps, polish_steps, ftol, dedup_tol)
        xscale, fscale = float(scales[0]), float(scales[1])
        names = np.array([STATUSES[int(s)] for s in status], dtype=object)
        rows, merged, row_of_start = representatives(x, q, names, dedup_tol * xscale)
        x, q, names = x[rows], q[rows], names[rows]
        J = _batched(lambda a: jacobians(f, a), x)
        H, g = _slow_data(f, x, (names == "converged") & ~_is_fixed(q, ftol, fscale))
    return assemble(
        x,
        q,
        names,
        J,
        H,
        g,
        xscale,
        fscale,
        merged=merged,
        row_of_start=row_of_start,
        ftol=ftol,
        eig_tol=eig_tol,
    )


def _is_fixed(q: np.ndarray, ftol: float, fscale: float) -> np.ndarray:
    """‖f‖ = √(2q) ≤ ftol·fscale, as in the minimisation loop."""
    return np.sqrt(2.0 * np.abs(q)) <= ftol * fscale


def _stages(
    f, starts: np.ndarray, rel, max_steps: int, polish_steps: int, ftol: float, merge: float
):
    """Stage 1 on every start, then stages 2 and 3 on the starts that stopped (not
    diverged) short of a fixed point, as smaller batches. Stage 3 runs once per
    distinct stage-2 point: converged starts closer than ``merge``·xscale (the final
    merge radius) share their representative's polished result. Host x, q, status; scales."""
    scales = speed_scales(f, jnp.asarray(_pad(starts)), jnp.asarray(len(starts)))
    xscale, fscale = float(scales[0]), float(scales[1])
    x, q, status = newton_krylov(f, starts, scales, rel, max_steps)
    redo = np.flatnonzero((status != 2) & ~_is_fixed(q, ftol, fscale))
    if redo.size:
        x[redo], q[redo], status[redo] = newton_grad(
            f, x[redo], q[redo], starts[redo], scales, rel, max_steps
        )
    redo = np.flatnonzero((status != 2) & ~_is_fixed(q, ftol, fscale))
    if redo.size:
        rows, owner = _polish_rows(x[redo], q[redo], status[redo], merge * xscale)
        r = redo[rows]
        x[r], q[r], status[r] = minimise_speed(
            f, x[r], q[r], starts[r], scales, rel, polish_steps, hessian=True
        )
        x[redo], q[redo], status[redo] = x[r][owner], q[r][owner], status[r][owner]
    return x, q, status, scales


def _polish_rows(x: np.ndarray, q: np.ndarray, status: np.ndarray, tol: float):
    """Rows to polish (one per group of converged rows closer than ``tol``, every other
    row on its own) and, per row, the index into them whose result it takes: the
    grouping of :func:`~ghostmech.dynamics.points.representatives`."""
    names = np.where(status == 0, "converged", "running")
    rows, _, owner = representatives(x, q, names, tol)
    return rows, owner


def _slow_data(f, x: np.ndarray, slow: np.ndarray):
    """Hessian of q [P, n, n] and GhostInfo [P] at the ``slow`` rows (NaN elsewhere)."""
    p, n = x.shape
    H = np.full((p, n, n), np.nan)
    nan = lambda *shape: np.full((p, *shape), np.nan)  # noqa: E731
    g = GhostInfo(nan(), nan(), nan(), nan(n), nan(n))
    if slow.any():
        Hs, gs = _batched(lambda a: slow_point_data(f, a), x[slow])
        H[slow] = Hs
        g = jax.tree_util.tree_map(lambda full, part: _put(full, slow, part), g, gs)
    return H, g


def _put(full: np.ndarray, mask: np.ndarray, part: np.ndarray) -> np.ndarray:
    full[mask] = part
    return full
