"""Edge of stability: the largest Hessian eigenvalue by Lanczos on Hessian-vector products.

Gradient descent θ ← θ − η∇L is linearly unstable near θ when |1 − ηλ| > 1 for an
eigenvalue λ of the Hessian H = ∇²L(θ), i.e. when η > 2/λ_max (docs/theory.md,
"Predicting the critical learning rate", curvature bound). λ_max comes from ``iters``
Lanczos steps with full re-orthogonalisation on v ↦ Hv = jvp(∇L)(θ; v); H is never formed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive_int

__all__ = ["hvp_fn", "lanczos_max", "lanczos_max_batch", "eos_lr"]


def hvp_fn(loss):
    """``(θ, v) -> H(θ) v`` for a scalar ``loss(θ)``: forward-over-reverse (jax.jvp of grad)."""
    grad = jax.grad(loss)
    return jax.jit(lambda theta, v: jax.jvp(grad, (theta,), (v,))[1])


def _tridiagonal(hvp, theta, v0, iters: int):
    """Lanczos coefficients (α ``[k]``, β ``[k]``) from ``v0``, full re-orthogonalisation."""
    q = jnp.zeros((iters + 1, v0.shape[0]), v0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))

    def body(j, carry):
        q, al, be = carry
        w = hvp(theta, q[j])
        a = jnp.dot(w, q[j])
        w = w - q.T @ (q @ w)  # rows not yet filled are zero; twice is enough
        w = w - q.T @ (q @ w)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(1.0, jnp.abs(a))
        nxt = jnp.where(b > 1e-12 * scale, w / jnp.where(b > 0, b, 1.0), 0.0)
        return q.at[j + 1].set(nxt), al.at[j].set(a), be.at[j].set(b)

    zeros = jnp.zeros(iters, v0.dtype)
    _, al, be = jax.lax.fori_loop(0, iters, body, (q, zeros, zeros))
    return al, be


def _top_ritz(al, be) -> float:
    al, be = np.asarray(al, float), np.asarray(be, float)
    k = al.size
    stop = np.flatnonzero(be[: k - 1] <= 1e-12 * np.maximum(1.0, np.abs(al[: k - 1])))
    k = int(stop[0]) + 1 if stop.size else k  # invariant subspace found: stop there
    tri = np.diag(al[:k]) + np.diag(be[: k - 1], 1) + np.diag(be[: k - 1], -1)
    return float(np.linalg.eigvalsh(tri)[-1])


def lanczos_max(hvp, theta, *, key: jax.Array, iters: int = 30) -> float:
    """Largest eigenvalue of the symmetric operator ``v ↦ hvp(theta, v)`` (top Ritz value
    after ``min(iters, dim)`` Lanczos steps from a random start).

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.diag(jnp.arange(1.0, 6.0))
    >>> round(lanczos_max(lambda t, v: A @ v, jnp.zeros(5), key=jax.random.key(0), iters=5), 6)
    5.0
    """
    iters = min(check_positive_int("iters", iters), theta.shape[0])
    v0 = jax.random.normal(key, theta.shape, theta.dtype)
    al, be = jax.jit(_tridiagonal, static_argnums=(0, 3))(hvp, theta, v0, iters)
    return _top_ritz(al, be)


def lanczos_max_batch(loss, thetas, *, key: jax.Array, iters: int = 20) -> np.ndarray:
    """λ_max of ∇²L at each row of ``thetas`` ``[points, P]`` (one vmapped program)."""
    iters = min(check_positive_int("iters", iters), thetas.shape[1])
    grad = jax.grad(loss)

    def hvp(theta, v):
        return jax.jvp(grad, (theta,), (v,))[1]

    v0 = jax.random.normal(key, thetas.shape[1:], thetas.dtype)
    run = jax.jit(jax.vmap(lambda th: _tridiagonal(hvp, th, v0, iters)))
    al, be = run(thetas)
    return np.array([_top_ritz(a, b) for a, b in zip(np.asarray(al), np.asarray(be), strict=True)])


def eos_lr(lam_max: float) -> float:
    """2/λ_max: the largest stable lr of gradient descent near a point (inf if λ_max ≤ 0)."""
    return 2.0 / lam_max if lam_max > 0 else float("inf")
