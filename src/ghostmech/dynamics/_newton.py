"""Stage 1 of the finder: inexact Newton–Krylov on f with a backtracking line search.

Each step solves J(x) δ = −f(x) only up to a relative residual η (GMRES, J applied
by ``jax.linearize`` of f in float32 at x rounded to float32 — f's float leaves cast by
`in_dtype` — with the Krylov basis in float32; :mod:`._gmres`), then takes the
largest α ∈ {1, ½, ¼, …} with (Eisenstat & Walker 1994, global inexact Newton)

    ‖f(x + αδ)‖² ≤ (1 − 10⁻⁴ α) ‖f(x)‖²,

and q(x + tαδ) ≤ q(x) at t = ¼, ½, ¾ too: a step may not jump a ridge of q, so a
start in the basin of a slow point or ghost stays there (a pure root finder would
leap to a fixed point beyond it). ‖δ‖ is capped at ``_MAX_STEP``·xscale.
η = clip(‖f‖/fscale, 10⁻⁶, 0.1): loose far from a root, tight near it, so
convergence is superlinear down to the float32 level of the step, and the float64
residual decides acceptance. No Jacobian is formed: a
step costs O(n²) per start and j mat-vecs (j = GMRES iterations), and the mat-vecs
of a batch are one matrix-matrix product. A start whose line search fails (J
singular: a slow point, ghost or saddle of q) stops, and so does one whose ‖f‖
falls by less than √2 (q by less than ½) in ``_STALL`` steps in a row; the finder
then minimises q from there with J and the Hessian of q.

The batch is cut into chunks of ``_ROWS`` starts (fewer, 16·2^k, for a small batch),
so a call compiles for one shape; each chunk runs until its own starts are
done or ``_CALL_STEPS`` steps have passed, after which the starts still running are
packed into new chunks.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.dynamics._gmres import gmres

__all__ = ["newton_krylov", "on_chunks", "chunk_rows", "q_of", "verdict", "RUNNING"]

RUNNING = -1
PATIENCE = 8  # steps without a relative decrease of q > QREL: at the precision limit
QREL = 1e-10
_ROWS, _MIN_ROWS = 128, 16
_CALL_STEPS = 4
_KRYLOV = 20  # GMRES iterations at most per Newton step
_ETA = (1e-6, 0.1)
_MAX_STEP = 4.0  # ‖δ‖ ≤ _MAX_STEP · xscale
_BACKTRACKS = 12
_PATH = (0.25, 0.5, 0.75, 1.0)  # fractions of a step where q is checked (last: the step)
_SLOW, _STALL = 0.5, 4  # _STALL steps in a row with q_new > _SLOW·q: stop (slow point?)
_KRYLOV_DTYPE = jnp.float32


def _is_real_float(a) -> bool:
    return eqx.is_array(a) and jnp.issubdtype(a.dtype, jnp.floating)


def in_dtype(f, dtype):
    """``f`` with its float arrays (pytree leaves, e.g. an ``eqx.Module`` field's weights)
    cast to ``dtype``: evaluated at an x of that dtype, f and its Jacobian products run
    in it. A plain function (no array leaves) is returned as is."""
    cast = lambda a: a.astype(dtype) if _is_real_float(a) else a  # noqa: E731
    return jax.tree_util.tree_map(cast, f)


def q_of(f, x):
    """q = ½‖f(x)‖² for one state x [n]."""
    fx = f(x)
    return 0.5 * jnp.vdot(fx, fx)


def verdict(x, x0, qx, stuck, done, k, tols, steps: int):
    """Status after a step: 0 converged, 2 diverged, 1 out of steps, else RUNNING.

    ``tols`` = (xscale, fscale, ftol, xtol, diverge); ``done`` = the step was tiny.
    """
    xscale, fscale, ftol, _, diverge = tols
    fixed = jnp.sqrt(2.0 * qx) <= ftol * fscale
    bad = ~jnp.all(jnp.isfinite(x), axis=-1) | (jnp.linalg.norm(x - x0, axis=-1) > diverge * xscale)
    done = done | (stuck >= PATIENCE)
    out = jnp.where(k >= steps, 1, RUNNING)
    return jnp.where(bad, 2, jnp.where(fixed | done, 0, out)).astype(jnp.int32)


def _backtrack(vf, x, d, q, skip):
    """(α, accepted, q(x + αδ)) per row: the first α = 2⁻ⁱ meeting the decrease test
    with q ≤ q(x) also at x + tαδ, t ∈ _PATH (no jump across a ridge of q)."""
    t = jnp.asarray(_PATH, x.dtype)

    def body(state):
        i, a, ok, qn = state
        pts = x[None] + (t[:, None] * a[None, :])[..., None] * d[None]  # [T, S, n]
        ft = jax.vmap(vf)(pts)
        qt = 0.5 * jnp.sum(ft * ft, axis=-1)  # [T, S]
        path = jnp.all(jnp.isfinite(qt[:-1]) & (qt[:-1] <= q), axis=0)
        good = jnp.isfinite(qt[-1]) & (qt[-1] <= q * (1.0 - 1e-4 * a)) & path & ~ok
        qn = jnp.where(good, qt[-1], qn)
        ok = ok | good
        return i + 1, jnp.where(ok, a, 0.5 * a), ok, qn

    def cond(state):
        return (state[0] < _BACKTRACKS) & jnp.any(~state[2])

    a0 = jnp.ones_like(q)
    _, a, ok, qn = jax.lax.while_loop(cond, body, (0, a0, skip, q))
    return a, ok & ~skip, qn


def _step(vf, vf_k, state, x0, tols, steps: int):
    """One Newton–Krylov step on every running row of ``state`` = (x, q, stuck, k, status)."""
    x, q, stuck, k, status = state
    xscale, fscale, _, xtol, _ = tols
    running = status == RUNNING
    kdt = _KRYLOV_DTYPE
    fx = vf(x)
    _, lin = jax.linearize(vf_k, x.astype(kdt))
    eta = jnp.clip(jnp.sqrt(2.0 * q) / fscale, *_ETA).astype(kdt)
    kdim = min(_KRYLOV, x.shape[1])
    d, _, _ = gmres(lambda v: lin(v).astype(kdt), -fx.astype(kdt), kdim, eta)
    d = d.astype(x.dtype)
    dn = jnp.linalg.norm(d, axis=-1)
    d = d * jnp.minimum(1.0, _MAX_STEP * xscale / jnp.where(dn > 0, dn, 1.0))[:, None]
    a, ok, q_new = _backtrack(vf, x, d, q, ~running)
    small = ok & (a == 1.0) & (jnp.linalg.norm(d, axis=-1) <= xtol * xscale)
    x_new = jnp.where(ok[:, None], x + a[:, None] * d, x)
    q_new = jnp.where(ok, q_new, q)
    progress = ok & (q_new < q * _SLOW)
    stuck_new = jnp.where(progress, 0, stuck + 1)
    stalled = ~ok | (stuck_new >= _STALL)
    st = verdict(x_new, x0, q_new, stuck_new, small | stalled, k + 1, tols, steps)
    keep = lambda new, old: jnp.where(running.reshape(-1, *[1] * (old.ndim - 1)), new, old)  # noqa: E731
    return tuple(map(keep, (x_new, q_new, stuck_new, k + 1, st), state))


@eqx.filter_jit
def _advance(f, state, x0, scales, rel_tols, steps: int):
    """Up to ``_CALL_STEPS`` Newton–Krylov steps on a chunk ``state`` = (x, stuck, k,
    status), stopping when all are done. q and the verdict at x are computed first
    (a start may already be a fixed point). Returns (x, q, stuck, k, status)."""
    tols = (*scales, *rel_tols)
    vf = jax.vmap(f)
    vf_k = jax.vmap(in_dtype(f, _KRYLOV_DTYPE))
    x, stuck, k, status = state
    q = jax.vmap(lambda y: q_of(f, y))(x)
    now = verdict(x, x0, q, stuck, jnp.zeros(q.shape, bool), k, tols, steps)
    status = jnp.where(status == RUNNING, now, status)

    def body(carry):
        state, i = carry
        return _step(vf, vf_k, state, x0, tols, steps), i + 1

    def cond(carry):
        return (carry[1] < _CALL_STEPS) & jnp.any(carry[0][-1] == RUNNING)

    return jax.lax.while_loop(cond, body, ((x, q, stuck, k, status), 0))[0]


def chunk_rows(n_starts: int) -> int:
    """Chunk size: ``_ROWS``, or 16·2^k ≥ n_starts for fewer starts (one shape per call)."""
    size = _MIN_ROWS
    while size < min(n_starts, _ROWS):
        size *= 2
    return size


def _pad(a: np.ndarray, rows: int) -> jnp.ndarray:
    return jnp.asarray(np.concatenate([a, np.repeat(a[:1], rows - len(a), axis=0)]))


def on_chunks(fn, arrays: list[np.ndarray], idx: np.ndarray, rows: int) -> None:
    """``fn`` on the rows ``idx`` of ``arrays``, ``rows`` at a time (padded with copies
    of the first); its outputs, in the order of ``arrays``, are written back at ``idx``."""
    for i in range(0, idx.size, rows):
        sub = idx[i : i + rows]
        out = fn(*(_pad(a[sub], rows) for a in arrays))
        for dst, src in zip(arrays, out, strict=False):
            dst[sub] = np.asarray(src)[: len(sub)]


def newton_krylov(f, starts: np.ndarray, scales, rel_tols, steps: int):
    """Stage 1 from ``starts`` [S, n] (host array): host x [S, n], q [S], status [S].

    ``scales`` = (xscale, fscale), ``rel_tols`` = (ftol, xtol, diverge); status 0
    converged (or stopped: line search failed / stalled), 1 max_steps, 2 diverged.
    The starts still running after each call are packed into chunks again.
    """
    S = len(starts)
    ints = [np.zeros(S, np.int32), np.zeros(S, np.int32), np.full(S, RUNNING, np.int32)]
    arrays = [np.array(starts), np.zeros(S), *ints, starts]  # x, q, stuck, k, status, x0

    def advance(x, q, stuck, k, status, x0):
        return _advance(f, (x, stuck, k, status), x0, scales, rel_tols, steps)

    live, rows = np.arange(S), chunk_rows(S)
    while live.size:
        on_chunks(advance, arrays, live, rows)
        live = live[arrays[4][live] == RUNNING]
    return arrays[0], arrays[1], arrays[4].astype(int)
