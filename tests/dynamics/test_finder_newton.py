"""Newton–Krylov stage of the finder: batched GMRES, the stage itself, ``row_of_start``."""

from __future__ import annotations

from functools import partial

import dyn_zoo as zoo
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.dynamics import find_points, rnn_field
from ghostmech.dynamics._gmres import gmres
from ghostmech.dynamics._newton import in_dtype, newton_krylov


def _systems(S: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """S non-symmetric, well-conditioned A [S, n, n] = I·3 + N(0,1)/√n and b [S, n]."""
    rng = np.random.default_rng(seed)
    A = 3.0 * np.eye(n) + rng.normal(size=(S, n, n)) / np.sqrt(n)
    return A, rng.normal(size=(S, n))


@partial(jax.jit, static_argnums=2)
def _solve(A, b, k: int, rtol):
    """GMRES on the batch of dense systems A [S, n, n] δ = b [S, n] (one compile per k)."""
    return gmres(lambda v: jnp.einsum("sij,sj->si", A, v), b, k, rtol)


def test_gmres_full_space_matches_dense_solve():
    A, b = _systems(6, 24, seed=0)
    b[2] = 0.0  # a zero right-hand side gives δ = 0, no NaN
    x, res, j = _solve(A, b, 24, 1e-13)
    want = np.linalg.solve(A, b[..., None])[..., 0]
    np.testing.assert_allclose(np.asarray(x), want, atol=1e-10)
    assert np.all(np.isfinite(np.asarray(res))) and int(j) <= 24


def test_gmres_is_the_krylov_least_squares_solution():
    """After j = 3 iterations δ minimises ‖b − Aδ‖ over span{b, Ab, A²b} (lstsq)."""
    A, b = _systems(6, 24, seed=1)
    x, res, j = _solve(A, b, 3, 1e-300)
    assert int(j) == 3
    for s in range(6):
        K = np.stack([b[s], A[s] @ b[s], A[s] @ A[s] @ b[s]], axis=1)
        c = np.linalg.lstsq(A[s] @ K, b[s], rcond=None)[0]
        np.testing.assert_allclose(np.asarray(x[s]), K @ c, rtol=1e-8, atol=1e-10)
        true_res = np.linalg.norm(b[s] - A[s] @ np.asarray(x[s])) / np.linalg.norm(b[s])
        np.testing.assert_allclose(float(res[s]), true_res, rtol=1e-6)
        assert true_res < 1.0  # a descent direction of ½‖b − A·‖²


def test_gmres_stops_at_rtol():
    A, b = _systems(6, 24, seed=2)
    x, _, j = _solve(A, b, 24, 1e-4)
    true_res = np.linalg.norm(b - np.einsum("sij,sj->si", A, np.asarray(x)), axis=1)
    assert np.all(true_res <= 1e-4 * np.linalg.norm(b, axis=1) * (1 + 1e-6))
    assert int(j) < 24  # the spectrum is clustered around 3: far fewer than n


class Squares:
    """f(x) = x² − c elementwise: roots ±√c; Newton keeps the sign of each coordinate."""

    def __init__(self, c):
        self.c = jnp.asarray(c)

    def __call__(self, x):
        return x**2 - self.c


def test_newton_krylov_reaches_the_sign_matched_roots():
    c = np.array([0.25, 1.0, 4.0])
    starts = np.random.default_rng(3).uniform(0.2, 3.0, (20, 3))
    starts *= np.random.default_rng(4).choice([-1.0, 1.0], (20, 3))
    scales = (jnp.asarray(1.0), jnp.asarray(1.0))
    rel = tuple(jnp.asarray(v) for v in (1e-12, 1e-14, 1e3))
    x, q, status = newton_krylov(Squares(c), starts, scales, rel, 100)
    assert np.all(status == 0)
    np.testing.assert_allclose(x, np.sign(starts) * np.sqrt(c), rtol=1e-12)
    assert np.all(np.sqrt(2 * q) <= 1e-12)


def test_newton_krylov_stops_where_no_root_is_near():
    """f = x² + 1 has no root: the start stops (status 0) with q not above its start value."""
    starts = np.array([[0.7], [-1.5]])
    scales = (jnp.asarray(1.0), jnp.asarray(1.0))
    rel = tuple(jnp.asarray(v) for v in (1e-10, 1e-9, 1e3))
    x, q, status = newton_krylov(lambda y: y**2 + 1.0, starts, scales, rel, 100)
    assert np.all(status == 0)
    assert np.all(q <= 0.5 * (starts[:, 0] ** 2 + 1.0) ** 2)
    assert np.all(q >= 0.5)  # q ≥ ½ everywhere: never below the true minimum


def test_finder_recovers_every_root_of_a_block_network():
    """Block-diagonal tanh net (2-unit modules): fixed points = products of module roots."""
    A9 = np.array([[2.0, 0.4], [0.4, 2.0]])
    b9 = np.array([0.1, -0.05])
    A1 = np.array([[0.5, -0.3], [0.3, 0.5]])  # ‖A‖₂ < 1: one root
    W = np.zeros((4, 4))
    W[:2, :2], W[2:, 2:] = A9, A1
    b = np.r_[b9, 0.2, -0.1]
    roots9 = _roots_2d(A9, b9)
    assert len(roots9) == 9
    root1 = _roots_2d(A1, b[2:])
    known = np.array([np.r_[r, root1[0]] for r in roots9])
    starts = np.random.default_rng(5).uniform(-1.0, 1.0, (128, 4))
    pts = find_points(rnn_field(W, b), starts)
    fixed = pts.where("fixed")
    assert len(fixed) == 9 and set(pts.status) == {"converged"}
    d = np.linalg.norm(known[:, None] - pts.xstar[fixed][None], axis=2)
    assert np.all(d.min(axis=1) < 1e-10)


def _roots_2d(A: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Roots of −x + tanh(Ax + β) in 2-D by scipy's fsolve from a 41×41 grid (deduplicated)."""
    from scipy.optimize import fsolve

    g = np.linspace(-1.05, 1.05, 41)
    found: list[np.ndarray] = []
    for p in np.stack(np.meshgrid(g, g), -1).reshape(-1, 2):
        r, _, ok, _ = fsolve(lambda x: -x + np.tanh(A @ x + beta), p, full_output=True, xtol=1e-14)
        res = np.linalg.norm(-r + np.tanh(A @ r + beta))
        if ok == 1 and res < 1e-12 and not any(np.linalg.norm(r - y) < 1e-7 for y in found):
            found.append(r)
    return np.array(found)


@pytest.mark.parametrize("eps", [-0.25])
def test_row_of_start_maps_each_start_to_its_point(eps):
    """f = ε + x² (roots ±√−ε) and a start that diverges (zoo.Escape has none here):
    Newton from x ≠ 0 on a convex f keeps the sign of x, so start i belongs to the
    root with its sign; every start is accounted for exactly once."""
    starts = np.array([[-2.0], [-0.9], [-0.1], [0.3], [1.2], [2.0]])
    pts = find_points(zoo.Canonical(eps), starts)
    rows = pts.row_of_start
    assert rows.shape == (len(starts),) and rows.min() >= 0 and rows.max() < len(pts)
    np.testing.assert_allclose(pts.xstar[rows, 0], np.sign(starts[:, 0]) * np.sqrt(-eps))
    np.testing.assert_array_equal(pts.n_merged, np.bincount(rows, minlength=len(pts)))


def test_row_of_start_keeps_diverged_starts_apart():
    starts = np.array([[0.2], [5.0], [-0.3], [7.0]])
    pts = find_points(zoo.Escape(), starts)
    rows = pts.row_of_start
    assert list(pts.status[rows[[1, 3]]]) == ["diverged", "diverged"]
    assert rows[1] != rows[3] and rows[0] == rows[2]  # one row per non-converged start
    assert pts.status[rows[0]] == "converged" and abs(pts.xstar[rows[0], 0]) < 1e-10


def test_in_dtype_casts_the_field_weights_and_keeps_its_jacobian():
    """The float32 Jacobian products of the Newton–Krylov stage: ``in_dtype`` casts an
    eqx field's float leaves, so its jvp runs in float32, equal to the float64 jvp to
    float32 rounding; a plain function passes through unchanged."""
    rng = np.random.default_rng(0)
    n = 12
    with jax.enable_x64(True):
        f = rnn_field(rng.normal(size=(n, n)) / np.sqrt(n), rng.normal(size=n))
        f = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), f)
        f32 = in_dtype(f, jnp.float32)
        assert all(a.dtype == jnp.float32 for a in jax.tree_util.tree_leaves(f32))
        x, v = rng.normal(size=n), rng.normal(size=n)
        _, jv = jax.jvp(f, (jnp.asarray(x),), (jnp.asarray(v),))
        _, jv32 = jax.jvp(f32, (jnp.asarray(x, jnp.float32),), (jnp.asarray(v, jnp.float32),))
        assert jv32.dtype == jnp.float32
        err = np.max(np.abs(np.asarray(jv32, np.float64) - np.asarray(jv)))
        assert err < 1e-5 * np.max(np.abs(np.asarray(jv)))
        assert err > 0  # negative control: it did run in float32

        def plain(y):
            return -y

        assert in_dtype(plain, jnp.float32) is plain
