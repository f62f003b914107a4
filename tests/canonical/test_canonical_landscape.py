"""Loss landscape: analytic limit vs brute force, finite β vs scipy quadrature and FD."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit

from ghostmech.canonical import critical_lr, loss, loss_grad, optimum, point_of_no_return

T = 100.0
EPS_STAR = optimum(T)
# one shape for all finite-β calls: each new shape compiles the quadrature again
EPS_GRID = EPS_STAR * np.array([-0.5, 0.1, 0.2, 0.5, 0.9, 1.3, 2.0, 4.0])


def _brute_analytic(eps: float, T: float, R: float, n: int = 400_000) -> float:
    """∫ (1[t ≥ t*] − 1[t ≥ T])² dt by the midpoint rule (second implementation)."""
    t = (np.arange(n) + 0.5) * (T + R) / n
    t_star = np.pi / (2 * np.sqrt(eps)) if eps > 0 else np.inf
    return float(np.sum((t >= t_star) != (t >= T)) * (T + R) / n)


@pytest.mark.parametrize("R", [None, 30.0])
def test_analytic_loss_matches_brute_force(R):
    R_ = T if R is None else R
    eps = np.array(EPS_GRID)
    ref = [_brute_analytic(e, T, R_) for e in eps]
    np.testing.assert_allclose(loss(eps, T, R), ref, atol=2 * (T + R_) / 400_000)


def test_analytic_special_points_and_kink_convention():
    e0 = point_of_no_return(T)
    assert e0 == pytest.approx(EPS_STAR / 4, rel=1e-15)
    vals = loss(jnp.array([EPS_STAR, e0, 0.5 * e0, 0.0, -1.0]), T)
    np.testing.assert_allclose(vals, [0.0, T, T, T, T], atol=1e-9)
    g = loss_grad(jnp.array([EPS_STAR, e0, 0.5 * e0]), T)
    late = -np.pi / (4 * np.array([EPS_STAR, e0]) ** 1.5)  # late branch at ε* and ε₀
    np.testing.assert_allclose(g[:2], late, rtol=1e-14)
    assert g[2] == 0.0
    # docs/theory.md §2.1: slope just above ε* is 2T³/π²
    assert float(loss_grad(EPS_STAR * (1 + 1e-12), T)) == pytest.approx(2 * T**3 / np.pi**2)


@pytest.mark.parametrize("scale", ["raw", "per_T"])
def test_analytic_grad_matches_finite_differences(scale):
    eps = EPS_STAR * jnp.array([0.3, 0.6, 0.95, 1.05, 2.0, 7.0])
    h = 1e-7 * eps
    fd = (loss(eps + h, T, scale=scale) - loss(eps - h, T, scale=scale)) / (2 * h)
    np.testing.assert_allclose(loss_grad(eps, T, scale=scale), fd, rtol=1e-6)


def test_per_T_is_raw_divided_by_T():
    for kw in [{}, {"beta": 0.5, "x_theta": 5.0}]:
        np.testing.assert_allclose(
            loss(EPS_GRID, T, scale="per_T", **kw), loss(EPS_GRID, T, **kw) / T, rtol=1e-14
        )
    assert critical_lr(T, scale="per_T") == pytest.approx(T * critical_lr(T))


def _scipy_loss(eps: float, T: float, R: float, beta: float, x_theta: float) -> float:
    t_star = np.pi / (2 * np.sqrt(eps)) if eps > 0 else np.inf

    def y(t):
        if t >= t_star:
            return 1.0
        if eps > 0:
            x = np.sqrt(eps) * np.tan(np.sqrt(eps) * t)
        else:
            x = -np.sqrt(-eps) * np.tanh(np.sqrt(-eps) * t)
        return expit(beta * (x - x_theta))

    pts = [p for p in (t_star - 1 / x_theta, t_star) if 0 < p < T + R]
    first = quad(lambda t: y(t) ** 2, 0, T, points=[p for p in pts if p < T], limit=400)
    second = quad(lambda t: (1 - y(t)) ** 2, T, T + R, points=[p for p in pts if p > T], limit=400)
    return first[0] + second[0]


@pytest.mark.parametrize("beta, x_theta", [(0.1, 10.0), (1.0, 10.0), (2.0, 3.0)])
def test_finite_beta_quadrature_matches_scipy(beta, x_theta):
    R = 60.0
    ref = [_scipy_loss(float(e), T, R, beta, x_theta) for e in EPS_GRID]
    got = loss(EPS_GRID, T, R, beta=beta, x_theta=x_theta)
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-8)  # scipy quad's tolerance


@pytest.mark.parametrize("method", ["closed", "euler"])
@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_finite_beta_grad_matches_finite_differences(method, beta):
    eps = EPS_GRID
    # step: large in the no-learning zone (small gradients; rounding in L ~1e-14·T),
    # small above ε₀ where x(t) nearly blows up and L curves sharply
    h = np.where(eps < point_of_no_return(T), 1e-4, 1e-8) * np.abs(eps)
    kw = dict(beta=beta, x_theta=10.0, method=method)
    fd = (loss(eps + h, T, **kw) - loss(eps - h, T, **kw)) / (2 * h)
    g = loss_grad(eps, T, **kw)
    # central differences: truncation O(h²) plus rounding ~1e-14·T/h (≤ 1e-5 relative)
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-6)


def _numpy_euler(eps, T, R, beta, x_theta, dt, clip):
    """The authors' loop, written out (second implementation of method='euler')."""
    x, total = 0.0, 0.0
    for k in range(int(round((T + R) / dt))):
        target = 1.0 if k >= round(T / dt) else 0.0
        total += dt * (expit(beta * (x - x_theta)) - target) ** 2
        x = min(x + dt * (eps + x * x), clip)
    return total


def test_euler_matches_written_out_loop():
    eps = EPS_STAR * np.array([0.1, 0.5, 1.0, 3.0])
    ref = [_numpy_euler(e, 20.0, 20.0, 0.5, 10.0, 0.1, 1e6) for e in eps * 25]
    got = loss(eps * 25, 20.0, beta=0.5, x_theta=10.0, method="euler")
    np.testing.assert_allclose(got, ref, rtol=1e-12)


PAPER_RATIOS = {0.01: 1.3e-4, 0.1: 8.3e-4, 0.5: 1.1e-4, 1.0: 1.5e-6, 2.0: 1.4e-10}


@pytest.mark.parametrize("beta", list(PAPER_RATIOS))
def test_no_learning_zone_gradient_small_but_restoring(beta):
    """docs/theory.md (Fig. 8A): |∂L/∂ε| at 0.1ε* over max |∂L/∂ε| on [0.26, 2]ε*, T=100, x_θ=10."""
    grid = EPS_STAR * np.linspace(0.26, 2.0, 296)
    # chunks of 8 reuse the batch size compiled by the other finite-β tests
    g_max = max(np.abs(loss_grad(c, T, beta=beta, x_theta=10.0)).max() for c in grid.reshape(-1, 8))
    g = loss_grad(EPS_STAR * jnp.array([0.1, 0.2]), T, beta=beta, x_theta=10.0)
    assert np.all(g < 0)  # descent increases ε: back towards ε*
    ratio = float(abs(g[0]) / g_max)
    assert PAPER_RATIOS[beta] / 2 < ratio < PAPER_RATIOS[beta] * 2


def test_loss_under_vmap_and_jit_matches_batched_call():
    eps = jnp.asarray(EPS_GRID)
    np.testing.assert_allclose(jax.vmap(lambda e: loss(e, T))(eps), loss(eps, T), rtol=1e-14)
    g = jax.jit(jax.vmap(lambda e: loss_grad(e, T, scale="per_T")))(eps)
    np.testing.assert_allclose(g, loss_grad(eps, T, scale="per_T"), rtol=1e-14)
    assert loss(float(EPS_GRID[3]), T).shape == ()
