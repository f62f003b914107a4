"""1-D grid method vs the N-D finder; 2-D flow of a SNIC oscillator vs an ODE solver."""

from __future__ import annotations

import dyn_zoo as zoo
import jax
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from ghostmech.dynamics import (
    find_points,
    flow_1d,
    flow_2d,
    latent_field,
    latent_range,
    rnn_field,
    scalar_flow,
)


def test_dyn_flow1d_canonical_kinds():
    fl = flow_1d(zoo.Canonical(-0.04), -1.0, 1.0, n_grid=101)
    assert fl.kinds() == ["stable", "unstable"]
    np.testing.assert_allclose([p.kappa for p in fl.points], [-0.2, 0.2], rtol=1e-12)
    np.testing.assert_allclose([p.dF for p in fl.points], [-0.4, 0.4], rtol=1e-10)


def test_dyn_flow1d_bad_range():
    with pytest.raises(ValueError, match="`hi`"):
        flow_1d(zoo.Canonical(1.0), 1.0, -1.0)


def test_dyn_flow1d_agrees_with_finder_on_rank1_network():
    """Bistable rank-1 network: every latent fixed point κ* is nᵀx* of an N-D fixed point
    x* = tanh(m κ* + b), with matching stability (stable ↔ stable node, unstable ↔ saddle)."""
    n = 12
    m, nT, b, _, _ = zoo.two_population(n, eps=-0.05)  # ε < 0: the ghost became two points
    F = latent_field(m, nT, b)
    fl = flow_1d(scalar_flow(F), *latent_range(F))
    assert fl.kinds() == ["stable", "unstable", "stable"]
    x_star = np.tanh(np.outer([p.kappa for p in fl.points], m) + b)
    rng = np.random.default_rng(1)
    starts = np.concatenate([x_star + 0.05 * rng.normal(size=x_star.shape), x_star[:1]])
    pts = find_points(rnn_field(np.outer(m, nT), b), starts)
    kappa_nd = pts.xstar @ nT
    order = np.argsort(kappa_nd)
    np.testing.assert_allclose(kappa_nd[order], [p.kappa for p in fl.points], atol=1e-9)
    assert list(pts.kind[order]) == ["stable_node", "saddle", "stable_node"]


@pytest.fixture(scope="module")
def snic():
    with jax.enable_x64(True):
        omega = 1.0 + 2e-3
        return omega, flow_2d(zoo.SNIC(omega), (-1.5, 1.5), (-1.5, 1.5), n_grid=31)


def test_dyn_flow2d_snic_ghost_and_focus(snic):
    omega, fl = snic
    pts = fl.points
    (g,) = pts.where("ghost")
    assert fl.speed.shape == (31, 31) and fl.U.shape == (31, 31)
    np.testing.assert_allclose(pts.xstar[g], [0.0, 1.0], atol=0.02)
    np.testing.assert_allclose(pts.eps[g], (omega - 1) / 2, rtol=0.02)
    (o,) = pts.where("unstable")
    np.testing.assert_allclose(pts.xstar[o], 0.0, atol=1e-10)
    np.testing.assert_allclose(np.sort(pts.eigval_J_xstar[o].imag), [-omega, omega], rtol=1e-9)


def test_dyn_snic_period_matches_ghost_dwell(snic):
    """Near the SNIC almost the whole period is spent at the ghost: T ≈ π/√ε."""
    omega, fl = snic
    g = fl.points.where("ghost")[0]
    field = zoo.SNIC(omega)
    f = jax.jit(lambda z: field(z))

    def bottom(t, z):  # crossing θ = −π/2 counter-clockwise
        return z[0]

    bottom.terminal, bottom.direction = True, 1.0
    z0 = [np.cos(-np.pi / 2 + 1e-3), np.sin(-np.pi / 2 + 1e-3)]
    sol = solve_ivp(
        lambda t, z: np.asarray(f(z)),
        (0, 1e4),
        z0,
        method="LSODA",
        rtol=1e-9,
        atol=1e-12,
        events=bottom,
    )
    period = sol.t_events[0][0]
    np.testing.assert_allclose(period, 2 * np.pi / np.sqrt(omega**2 - 1), rtol=1e-3)
    assert abs(period / fl.points.dwell[g] - 1) < 0.02
