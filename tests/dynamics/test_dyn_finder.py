"""find_points on systems with closed-form answers (tests/dynamics/zoo.py)."""

from __future__ import annotations

import dyn_zoo as zoo
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from ghostmech.dynamics import MapField, find_points, rnn_field, sample_starts

KEY = jax.random.key(0)
STARTS_1D = np.linspace(-2.0, 2.0, 8)[:, None]  # 0 (a maximum of q when ε < 0) excluded


@pytest.mark.parametrize("eps", [-0.25, -1e-4])
def test_dyn_saddle_node_two_fixed_points(eps):
    pts = find_points(zoo.Canonical(eps), STARTS_1D)
    assert sorted(pts.kind) == ["stable_node", "unstable"]
    root = np.sqrt(-eps)
    for i in range(2):
        x = pts.xstar[i, 0]
        np.testing.assert_allclose(abs(x), root, rtol=1e-9)
        # J = 2x: stable at −√−ε, unstable at +√−ε
        assert pts.kind[i] == ("stable_node" if x < 0 else "unstable")
        np.testing.assert_allclose(pts.eigval_J_xstar[i, 0].real, 2 * x, rtol=1e-9)


@pytest.mark.parametrize("eps", [1e-2, 1e-6])
def test_dyn_canonical_ghost_epsilon_recovered(eps):
    pts = find_points(zoo.Canonical(eps), STARTS_1D)
    assert list(pts.kind) == ["ghost"] and list(pts.status) == ["converged"]
    assert abs(pts.xstar[0, 0]) < 1e-6
    np.testing.assert_allclose(pts.eps[0], eps, rtol=1e-9)
    np.testing.assert_allclose(pts.dwell[0], np.pi / np.sqrt(eps), rtol=1e-9)


def test_dyn_planted_ghost_rotated():
    n, eps, c = 5, 1e-5, 0.7
    Q = zoo.orthogonal(n, seed=1)
    starts = np.random.default_rng(2).normal(size=(12, n))
    pts = find_points(zoo.PlantedGhost(Q, eps, c), starts)
    (g,) = pts.where("ghost")
    assert pts.count("fixed") == 0
    np.testing.assert_allclose(pts.xstar[g], 0.0, atol=1e-4)
    np.testing.assert_allclose(pts.eps[g], eps, rtol=1e-5)
    v_true = Q @ np.r_[1.0, c, np.zeros(n - 2)] / np.hypot(1.0, c)
    np.testing.assert_allclose(abs(pts.u[g] @ Q[:, 0]), 1.0, atol=1e-6)
    np.testing.assert_allclose(abs(pts.v[g] @ v_true), 1.0, atol=1e-6)
    # transverse eigenvalues −1 (n−1 of them), the null one ≈ 0
    np.testing.assert_allclose(np.sort(pts.eigval_J_xstar[g].real)[:-1], -1.0, atol=1e-4)


def test_dyn_hopfield_rank1_stored_patterns():
    n, gain = 12, 2.0
    W, xi = zoo.hopfield_rank1(n, gain, seed=3)
    a = brentq(lambda s: s - np.tanh(gain * s), 0.1, 2.0)
    f = rnn_field(W, np.zeros(n))
    x0 = np.random.default_rng(4).normal(size=(2, n))
    # starts from trajectories (x0 and −x0: f is odd) plus states near the origin
    starts = sample_starts(f, np.concatenate([x0, -x0]), n_steps=10, every=10, key=KEY)
    pts = find_points(f, np.concatenate([starts[4:], 1e-2 * x0]))
    stable = pts.where("stable_node")
    assert len(stable) == 2 and pts.count("saddle") == 1
    for i in stable:
        np.testing.assert_allclose(abs(pts.xstar[i] @ xi) / n, a, rtol=1e-8)
        np.testing.assert_allclose(np.abs(pts.xstar[i]), a, rtol=1e-8)
        # eigenvalue along ξ: −1 + gain (1 − a²); the n−1 others: −1
        np.testing.assert_allclose(pts.eigval_J_xstar[i, 0].real, -1 + gain * (1 - a**2), rtol=1e-8)
    (s,) = pts.where("saddle")
    assert pts.n_unstable[s] == 1
    np.testing.assert_allclose(pts.xstar[s], 0.0, atol=1e-10)


def test_dyn_line_attractor_marginal():
    Q = zoo.orthogonal(3, seed=5)
    A = Q @ np.diag([0.0, -1.0, -0.5]) @ Q.T
    pts = find_points(zoo.Linear(A), np.random.default_rng(6).normal(size=(6, 3)))
    assert len(pts) >= 2 and set(pts.kind) == {"marginal"}
    for i in range(len(pts)):
        # every point found lies on the line spanned by Q e₁
        resid = pts.xstar[i] - (pts.xstar[i] @ Q[:, 0]) * Q[:, 0]
        assert np.linalg.norm(resid) < 1e-8
        np.testing.assert_allclose(np.max(pts.eigval_J_xstar[i].real), 0.0, atol=1e-10)


def test_dyn_diverging_start_reported():
    starts = np.array([[0.2], [5.0], [-0.3]])
    pts = find_points(zoo.Escape(), starts)
    assert "diverged" in list(pts.status)
    assert sum(pts.n_merged) == len(starts)  # nothing dropped
    (c,) = np.flatnonzero(pts.status == "converged")
    assert pts.kind[c] == "unstable" and abs(pts.xstar[c, 0]) < 1e-10
    assert all(k == "none" for k in pts.kind[pts.status != "converged"])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(f=lambda x: x[:1], starts=np.ones((2, 2))), "`f`"),
        (dict(f=lambda x: -x, starts=np.zeros((0, 2))), "`starts`"),
        (dict(f=lambda x: -x, starts=np.array([[np.nan, 0.0]])), "`starts`"),
        (dict(f=lambda x: -x, starts=np.ones((2, 2)), ftol=0.0), "`ftol`"),
        (dict(f=lambda x: -x, starts=np.ones((2, 2)), xtol=-1.0), "`xtol`"),
        (dict(f=lambda x: -x, starts=np.ones((2, 2)), dedup_tol=0.0), "`dedup_tol`"),
    ],
)
def test_dyn_finder_bad_input(kwargs, name):
    f, starts = kwargs.pop("f"), kwargs.pop("starts")
    with pytest.raises(ValueError, match=name):
        find_points(f, starts, **kwargs)


def test_dyn_rnn_field_rejects_nonfinite_weights():
    W = np.eye(3)
    W[0, 1] = np.inf
    with pytest.raises(ValueError, match="`W`"):
        rnn_field(W, np.zeros(3))
    with pytest.raises(ValueError, match="`b`"):
        rnn_field(np.eye(3), jnp.array([0.0, np.nan, 0.0]))


def test_dyn_discrete_map_fixed_point():
    """G(x) = cos x: f = G − x vanishes at the Dottie number x* = cos x*."""
    root = brentq(lambda s: s - np.cos(s), 0.0, 1.0, xtol=1e-15)
    pts = find_points(MapField(jnp.cos), STARTS_1D)
    (i,) = pts.where("fixed")
    np.testing.assert_allclose(pts.xstar[i, 0], root, rtol=1e-12)
    np.testing.assert_allclose(pts.eigval_J_xstar[i, 0].real, -np.sin(root) - 1.0, rtol=1e-10)
