"""Stage 2 of the finder: batched CG with its negative-curvature test, damped Newton on ∇q."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.dynamics._cg import cg
from ghostmech.dynamics._newton_q import newton_grad


@partial(jax.jit, static_argnums=2)
def _solve(A, b, k: int, rtol):
    return cg(lambda v: jnp.einsum("sij,sj->si", A, v), b, k, rtol)


def test_cg_matches_dense_solve_on_positive_definite_systems():
    rng = np.random.default_rng(0)
    S, n = 5, 16
    M = rng.normal(size=(S, n, n))
    A = M @ np.swapaxes(M, 1, 2) / n + 0.5 * np.eye(n)
    b = rng.normal(size=(S, n))
    with jax.enable_x64(True):
        x, neg, j = _solve(A, b, n, 1e-12)
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(A, b[..., None])[..., 0], atol=1e-9)
    assert not np.any(np.asarray(neg)) and int(j) <= n


def test_cg_flags_negative_curvature_only_where_it_is():
    """diag(2, −1) has no minimum of ½δᵀAδ − bᵀδ: flagged; diag(2, 1) is not (control)."""
    A = np.array([np.diag([2.0, -1.0]), np.diag([2.0, 1.0])])
    b = np.array([[1.0, 1.0], [1.0, 1.0]])
    with jax.enable_x64(True):
        x, neg, _ = _solve(A, b, 2, 1e-12)
    assert np.asarray(neg).tolist() == [True, False]
    np.testing.assert_allclose(np.asarray(x[1]), [0.5, 1.0], atol=1e-12)


def _run(f, x, steps=100):
    x = np.asarray(x, float)
    with jax.enable_x64(True):
        q = np.array([0.5 * float(np.sum(np.asarray(f(jnp.asarray(r))) ** 2)) for r in x])
        scales = (jnp.asarray(1.0), jnp.asarray(1.0))
        rel = tuple(jnp.asarray(v) for v in (1e-10, 1e-9, 1e3))
        return newton_grad(f, x, q, x.copy(), scales, rel, steps)


def test_newton_grad_converges_to_a_slow_point():
    """f = ε + x² (ε > 0, no root): q = ½(ε + x²)² has its minimum at x = 0, f = ε."""
    eps = 1e-3
    x, q, status = _run(lambda y: eps + y**2, [[0.8], [-0.5], [0.05]])
    assert np.all(status == 0)
    np.testing.assert_allclose(x[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(q, 0.5 * eps**2, rtol=1e-9)


def test_newton_grad_is_not_drawn_to_a_maximum_of_q():
    """f = 2 − x²: q = ½(2 − x²)² has a maximum at 0 (q'' = −4) and minima (roots) at ±√2.

    Plain Newton on q' from x = 0.1 steps towards the maximum (negative control);
    the finder's step, taken only where the damped Hessian is positive definite,
    goes downhill to the root √2."""

    def f(y):
        return 2.0 - y**2

    x0 = 0.1
    dq, d2q = (2 - x0**2) * (-2 * x0), 4 * x0**2 + (2 - x0**2) * (-2.0)
    assert abs(x0 - dq / d2q) < x0  # plain Newton: towards the maximum at 0
    x, q, status = _run(f, [[x0], [-0.3]])
    assert np.all(status == 0)
    np.testing.assert_allclose(x[:, 0], [np.sqrt(2.0), -np.sqrt(2.0)], rtol=1e-9)
    assert np.all(q < 1e-18)
