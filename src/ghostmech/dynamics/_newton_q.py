"""Stage 2 of the finder: damped Newton–Krylov on ∇q, matrix-free, for the stalled starts.

For the starts that stage 1 (:mod:`._newton`) left short of a fixed point, each step
solves, for q = ½‖f‖² with ∇q = Jᵀf and ∇²q = JᵀJ + Σᵢ fᵢ ∇²fᵢ (docs/model.md §1),

    (∇²q(x) + λ h I) δ = −∇q(x),   h = ‖∇²q ĝ‖,  ĝ = ∇q/‖∇q‖,

by conjugate gradients (:mod:`._cg`) up to a relative residual ``_ETA``, with ∇²q applied by
``jax.linearize`` of the batched ∇q (Hessian-vector products, forward-over-reverse;
float32: f's float leaves cast by `in_dtype`, x rounded, float32 Krylov basis), so no
Jacobian or Hessian is formed: a product costs one jvp and one vjp, and the products
of a chunk are matrix-matrix products. ∇q, q and the acceptance test are float64.
A step is tried only where CG met no direction of non-positive curvature of the
damped Hessian (else λ ×10 and no step), and accepted when q(x + δ) ≤ q(x) (then
λ ×0.3, else λ ×10): large λ is gradient descent on q, small λ Newton on ∇q, which
converges fast to fixed points AND to slow points (minima of q with f ≠ 0, where JᵀJ
is singular and Levenberg–Marquardt on f only converges linearly). Since the damped
Hessian must be positive definite, a maximum or saddle of q repels the iteration
(undamped Newton on ∇q would be drawn to it). The verdict is that of the
other stages (:func:`._newton.verdict`); the float64 Hessian polish of the finder
follows on the starts still short of a fixed point.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.dynamics._cg import cg
from ghostmech.dynamics._newton import (
    QREL,
    RUNNING,
    in_dtype,
    on_chunks,
    q_of,
    verdict,
)

__all__ = ["newton_grad"]

_KRYLOV = 40  # GMRES iterations at most per step
_ETA = 1e-2  # relative residual of the Newton equation
_CALL_STEPS = 8
_ROWS = 32  # every chunk, the tail included: one compiled shape
_LAM0 = 1e-3
_KDT = jnp.float32


def _grad_q(f):
    def g(y):
        fy, vjp = jax.vjp(f, y)
        return vjp(fy)[0]

    return g


def _safe(a):
    return jnp.where(a > 0, a, 1.0)


def _step(vg, vg_k, vq, state, x0, tols, steps: int):
    """One damped Newton step on ∇q for every running row of ``state`` =
    (x, q, λ, stuck, k, status)."""
    x, q, lam, stuck, k, status = state
    xscale, xtol = tols[0], tols[3]
    running = status == RUNNING
    g = vg(x)
    _, hv = jax.linearize(vg_k, x.astype(_KDT))
    gk = g.astype(_KDT)
    gn = jnp.linalg.norm(gk, axis=-1)
    h = jnp.linalg.norm(hv(gk / _safe(gn)[:, None]), axis=-1)
    shift = (lam * jnp.maximum(h, jnp.finfo(_KDT).tiny)).astype(_KDT)[:, None]
    kdim = min(_KRYLOV, x.shape[1])
    mv = lambda v: hv(v) + shift * v  # noqa: E731
    d, neg, _ = cg(mv, -gk, kdim, _ETA)  # neg: not positive definite; no step, λ ×10
    d = d.astype(x.dtype)
    x_new = x + d
    q_new = vq(x_new)
    ok = running & ~neg & jnp.isfinite(q_new) & (q_new <= q) & jnp.all(jnp.isfinite(x_new), axis=-1)
    dn = jnp.linalg.norm(d, axis=-1)
    small = ok & (lam < 1.0) & (dn <= xtol * xscale)
    progress = ok & (q_new < q * (1.0 - QREL))
    stuck_new = jnp.where(progress, 0, stuck + 1)
    x_new = jnp.where(ok[:, None], x_new, x)
    q_new = jnp.where(ok, q_new, q)
    lam_new = jnp.where(ok, jnp.maximum(lam * 0.3, 1e-15), lam * 10.0)
    st = verdict(x_new, x0, q_new, stuck_new, small, k + 1, tols, steps)
    keep = lambda new, old: jnp.where(running.reshape(-1, *[1] * (old.ndim - 1)), new, old)  # noqa: E731
    return tuple(map(keep, (x_new, q_new, lam_new, stuck_new, k + 1, st), state))


@eqx.filter_jit
def _advance(f, state, x0, scales, rel_tols, steps: int):
    """Up to ``_CALL_STEPS`` steps on a chunk, stopping when every row is done."""
    tols = (*scales, *rel_tols)
    vg = jax.vmap(_grad_q(f))
    vg_k = jax.vmap(_grad_q(in_dtype(f, _KDT)))
    vq = jax.vmap(lambda y: q_of(f, y))

    def body(carry):
        st, i = carry
        return _step(vg, vg_k, vq, st, x0, tols, steps), i + 1

    def cond(carry):
        return (carry[1] < _CALL_STEPS) & jnp.any(carry[0][-1] == RUNNING)

    return jax.lax.while_loop(cond, body, (state, 0))[0]


def newton_grad(f, x, q, x0, scales, rel_tols, steps: int):
    """Stage 2 from x [S, n] with q(x) [S] (host arrays; starts x0 [S, n]): host x [S, n],
    q [S], status [S] (0 converged, 1 max_steps, 2 diverged). Chunks as in
    :func:`._newton.newton_krylov`; the rows still running are packed again after
    each call, in chunks 8× smaller once they fit."""
    S = len(x)
    ints = [np.zeros(S, np.int32), np.zeros(S, np.int32), np.full(S, RUNNING, np.int32)]
    arrays = [np.array(x), np.array(q), np.full(S, _LAM0), *ints, np.asarray(x0)]

    def advance(*a):
        return _advance(f, tuple(a[:-1]), a[-1], scales, rel_tols, steps)

    live = np.arange(S)
    while live.size:
        on_chunks(advance, arrays, live, _ROWS)
        live = live[arrays[5][live] == RUNNING]
    return arrays[0], arrays[1], arrays[5].astype(int)
