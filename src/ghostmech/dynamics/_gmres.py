"""Batched GMRES for the finder's inexact Newton steps (Newton–Krylov).

Solves A δ = b for every row of a batch at once, from δ₀ = 0, in the Krylov space
Kⱼ(A, b) = span{b, Ab, …, Aʲ⁻¹b}: δⱼ = argmin_{δ ∈ Kⱼ} ‖b − Aδ‖ (Saad & Schultz 1986).
A is applied to the whole batch at once (``matvec``: [S, n] → [S, n]), so for a
vmapped ``jax.linearize`` of a network field each product is one matrix-matrix
product: O(n²) per row instead of the O(n³) of a dense factorisation.

Arnoldi with modified Gram–Schmidt run twice (stable in float32), Givens rotations
giving |residual| after each iteration; the batch moves in lock step and stops when
every row has ‖b − Aδ‖ ≤ rtol·‖b‖ or after ``k`` iterations (the best δ in Kₖ).
Since ‖b − Aδ‖ ≤ ‖b‖, for b = −f and A = J the step is a descent direction of
q = ½‖f‖²: ∇q·δ = fᵀJδ ≤ −‖Jδ‖²/2 ≤ 0.

>>> import jax.numpy as jnp
>>> A = jnp.array([[[2.0, 1.0], [0.0, 3.0]]])
>>> x, res, j = gmres(lambda v: jnp.einsum("sij,sj->si", A, v), jnp.array([[4.0, 3.0]]), 2, 1e-6)
>>> [round(float(v), 6) for v in x[0]], int(j)
([1.5, 1.0], 2)
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

__all__ = ["gmres"]


def _safe(a):
    return jnp.where(a > 0, a, 1.0)


def _orthogonalise(V, w, j):
    """w minus its projections on the rows V[0..j] (MGS, twice); h [k+1, S] the coefficients."""

    def one(i, carry):
        w, h = carry
        c = jnp.sum(V[i] * w, axis=-1)
        return w - c[:, None] * V[i], h.at[i].add(c)

    h = jnp.zeros(V.shape[:2], w.dtype)
    w, h = jax.lax.fori_loop(0, j + 1, one, (w, h))
    return jax.lax.fori_loop(0, j + 1, one, (w, h))


def _rotate(h, cs, sn, j):
    """Apply the previous Givens rotations 0..j−1 to the new Hessenberg column h [k+1, S]."""

    def one(i, h):
        a, b = h[i], h[i + 1]
        return h.at[i].set(cs[i] * a + sn[i] * b).at[i + 1].set(-sn[i] * a + cs[i] * b)

    return jax.lax.fori_loop(0, j, one, h)


def gmres(
    matvec: Callable[[Float[Array, "S n"]], Float[Array, "S n"]],
    b: Float[Array, "S n"],
    k: int,
    rtol,
) -> tuple[Float[Array, "S n"], Float[Array, " S"], Int[Array, ""]]:
    """(δ [S, n], ‖b − Aδ‖/‖b‖ [S], iterations) for A δ = b row by row (module docstring).

    ``rtol`` is a scalar or one per row [S]; the basis has the dtype of ``b``.
    """
    S, n = b.shape
    dt = b.dtype
    beta = jnp.linalg.norm(b, axis=-1)
    V = jnp.zeros((k + 1, S, n), dt).at[0].set(b / _safe(beta)[:, None])
    R = jnp.zeros((k, k + 1, S), dt)  # R[column j] = rotated Hessenberg column j
    cs, sn = jnp.zeros((k, S), dt), jnp.zeros((k, S), dt)
    g = jnp.zeros((k + 1, S), dt).at[0].set(beta)
    goal = jnp.asarray(rtol, dt) * beta

    def body(state):
        j, V, R, cs, sn, g = state
        w, h = _orthogonalise(V, matvec(V[j]), j)
        hn = jnp.linalg.norm(w, axis=-1)
        V = V.at[j + 1].set(w / _safe(hn)[:, None])
        h = _rotate(h.at[j + 1].set(hn), cs, sn, j)
        a, c = h[j], h[j + 1]
        r = jnp.hypot(a, c)
        cj, sj = jnp.where(r > 0, a / _safe(r), 1.0), c / _safe(r)
        R = R.at[j].set(h.at[j].set(r).at[j + 1].set(0.0))
        g = g.at[j + 1].set(-sj * g[j]).at[j].set(cj * g[j])
        return j + 1, V, R, cs.at[j].set(cj), sn.at[j].set(sj), g

    def cond(state):
        j, g = state[0], state[-1]
        return (j < k) & jnp.any(jnp.abs(g[j]) > goal)

    j, V, R, _, _, g = jax.lax.while_loop(cond, body, (0, V, R, cs, sn, g))
    return _combine(V, R, g, j, k), jnp.abs(g[j]) / _safe(beta), j


def _combine(V, R, g, j, k: int):
    """δ = Σᵢ yᵢ Vᵢ with R y = g over the first j columns (back substitution, batched)."""
    used = jnp.arange(k) < j
    T = jnp.moveaxis(R[:, :k], -1, 0).transpose(0, 2, 1)  # [S, row, column]
    keep = used[:, None] & used[None, :]
    T = jnp.where(keep, T, jnp.eye(k, dtype=T.dtype))
    diag_ok = jnp.abs(jnp.diagonal(T, axis1=1, axis2=2)) > 0
    T = jnp.where(jnp.eye(k, dtype=bool) & ~diag_ok[:, None, :], 1.0, T)
    rhs = jnp.where(used[:, None] & diag_ok.T, g[:k], 0.0).T[..., None]
    y = jax.scipy.linalg.solve_triangular(T, rhs, lower=False)[..., 0]  # [S, k]
    return jnp.einsum("sk,ksn->sn", y, V[:k])
