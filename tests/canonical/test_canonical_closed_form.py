"""Closed forms of dx/dt = ε + x² against scipy's ODE solver and finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from ghostmech.canonical import blowup_time, dx_deps, optimum, threshold_time, trajectory

EPS_STAR = optimum(100.0)
EPSILONS = [
    -1e-2,
    -EPS_STAR,
    -1e-8,
    0.0,
    1e-8,
    0.1 * EPS_STAR,
    EPS_STAR,
    1e-2,
]  # floats: module constants are built before x64 is on


def _ode(eps: float, t_eval: np.ndarray) -> np.ndarray:
    sol = solve_ivp(
        lambda t, x: eps + x**2, (0, t_eval[-1]), [0.0], t_eval=t_eval, rtol=1e-12, atol=1e-14
    )
    return sol.y[0]


@pytest.mark.parametrize("eps", EPSILONS)
def test_trajectory_matches_ode_solver(eps):
    t_end = min(200.0, 0.95 * float(blowup_time(eps)))
    t = np.linspace(0, t_end, 41)
    ref = _ode(eps, t)
    # rtol 1e-12 solver; 1e-8 relative + tiny absolute covers the solver's error
    np.testing.assert_allclose(trajectory(t, eps), ref, rtol=1e-8, atol=1e-13)


@pytest.mark.parametrize("eps", EPSILONS)
def test_dx_deps_matches_finite_differences(eps):
    t = np.linspace(0.5, min(150.0, 0.9 * float(blowup_time(eps))), 7)
    h = 1e-6 * max(abs(eps), 1e-6)  # central difference: error O(h²·x''')
    fd = (trajectory(t, eps + h) - trajectory(t, eps - h)) / (2 * h)
    np.testing.assert_allclose(dx_deps(t, eps), fd, rtol=1e-6)
    auto = jax.vmap(jax.grad(trajectory, argnums=1), in_axes=(0, None))(jnp.asarray(t), eps)
    np.testing.assert_allclose(dx_deps(t, eps), auto, rtol=1e-10)


def test_dx_deps_is_t_at_zero():
    t = jnp.linspace(0, 100, 5)
    np.testing.assert_allclose(dx_deps(t, 0.0), t, rtol=1e-15)


def test_blowup_time_and_threshold_time():
    eps = jnp.array([EPS_STAR, 1e-2, 0.0, -1e-3])
    np.testing.assert_allclose(blowup_time(eps[:2]), np.pi / (2 * np.sqrt(eps[:2])), rtol=1e-15)
    assert np.all(np.isinf(blowup_time(eps[2:])))
    assert np.all(np.isinf(trajectory(blowup_time(eps[:2]) * (1 + 1e-12), eps[:2])))
    t_theta = threshold_time(eps, 10.0)
    np.testing.assert_allclose(trajectory(t_theta[:2], eps[:2]), 10.0, rtol=1e-9)
    # t_θ ≈ t* − 1/x_θ when √ε ≪ x_θ (error O(ε/x_θ³))
    np.testing.assert_allclose(t_theta[0], blowup_time(EPS_STAR) - 0.1, atol=1e-6)
    assert np.all(np.isinf(t_theta[2:]))


def test_vmap_and_jit_agree_with_broadcasting():
    eps = jnp.array(EPSILONS)
    direct = trajectory(10.0, eps)
    np.testing.assert_allclose(jax.vmap(lambda e: trajectory(10.0, e))(eps), direct, rtol=1e-13)
    np.testing.assert_allclose(jax.jit(dx_deps)(10.0, eps), dx_deps(10.0, eps), rtol=1e-13)
    assert direct.dtype == jnp.float64


@pytest.mark.parametrize("bad", ["x", None, True, [1, "a"]])
def test_bad_eps_is_refused(bad):
    with pytest.raises(ValueError, match="`eps`"):
        trajectory(1.0, bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "10"])
def test_bad_threshold_is_refused(bad):
    with pytest.raises(ValueError, match="`x_theta`"):
        threshold_time(1e-3, bad)
