"""Batched conjugate gradients with a negative-curvature test, for the finder's Newton steps on ∇q.

Solves A δ = b for every row of a batch at once, from δ₀ = 0, for symmetric A
(Hestenes & Stiefel 1952): δⱼ minimises the quadratic model m(δ) = ½δᵀAδ − bᵀδ over
the Krylov space Kⱼ(A, b) while A is positive definite on it. A row whose search
direction p has pᵀAp ≤ 0 (A not positive definite: the model has no minimum) stops
and is flagged; its δ is the last iterate (Nocedal & Wright 2006, Alg. 7.1). The
batch moves in lock step (A applied to the whole batch at once, ``matvec``:
[S, n] → [S, n]) and stops when every row has ‖b − Aδ‖ ≤ rtol·‖b‖, is flagged, or
after ``k`` iterations. A positive definite model gives bᵀδ > 0 for b ≠ 0, so for
b = −∇q the step is a descent direction of q.

>>> import jax.numpy as jnp
>>> A = jnp.array([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 0.0], [0.0, -1.0]]])
>>> x, neg, j = cg(lambda v: jnp.einsum("sij,sj->si", A, v), jnp.array([[3.0, 4.0], [1.0, 1.0]]), 2, 1e-6)
>>> [round(float(v), 6) for v in x[0]], neg.tolist()
([1.0, 1.0], [False, True])
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

__all__ = ["cg"]


def cg(
    matvec: Callable[[Float[Array, "S n"]], Float[Array, "S n"]],
    b: Float[Array, "S n"],
    k: int,
    rtol,
) -> tuple[Float[Array, "S n"], Bool[Array, " S"], Int[Array, ""]]:
    """(δ [S, n], negative curvature met [S], iterations) for A δ = b (module docstring)."""
    goal = (jnp.asarray(rtol, b.dtype) * jnp.linalg.norm(b, axis=-1)) ** 2
    rs = jnp.sum(b * b, axis=-1)
    active = rs > goal

    def body(state):
        j, x, r, p, rs, active, neg = state
        Ap = matvec(p)
        pAp = jnp.sum(p * Ap, axis=-1)
        bad = active & ~(pAp > 0)
        neg, active = neg | bad, active & ~bad
        a = jnp.where(active, rs / jnp.where(active, pAp, 1.0), 0.0)[:, None]
        x, r = x + a * p, r - a * Ap
        rs_new = jnp.sum(r * r, axis=-1)
        beta = jnp.where(active, rs_new / jnp.where(rs > 0, rs, 1.0), 0.0)[:, None]
        p = jnp.where(active[:, None], r + beta * p, p)
        rs = jnp.where(active, rs_new, rs)
        return j + 1, x, r, p, rs, active & (rs_new > goal), neg

    def cond(state):
        return (state[0] < k) & jnp.any(state[5])

    zero = jnp.zeros_like(b)
    state = (0, zero, b, b, rs, active, jnp.zeros(rs.shape, bool))
    j, x, _, _, _, _, neg = jax.lax.while_loop(cond, body, state)
    return x, neg, j
