"""Hypothesis properties of the loss over ε, T, R, β, x_θ."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ghostmech.canonical import loss, optimum

ratios = st.floats(-2.0, 6.0)  # ε in units of ε*(T)
delays = st.floats(20.0, 300.0)
windows = st.floats(0.0, 2.0)  # R in units of T


def _as_batch(value: float) -> np.ndarray:
    return np.full((4,), value)  # one shape for every example: compiled once


@given(ratio=ratios, T=delays, r=windows, beta=st.floats(0.05, 5.0), x_theta=st.floats(1.0, 50.0))
def test_loss_is_bounded_by_trial_length(ratio, T, r, beta, x_theta):
    eps = _as_batch(ratio * optimum(T))
    for kw in [{}, {"beta": beta, "x_theta": x_theta}]:
        val = np.asarray(loss(eps, T, r * T, **kw))
        assert np.all(val >= 0) and np.all(val <= T + r * T + 1e-9)


@given(ratio=ratios, T=delays, r=windows)
def test_finite_beta_tends_to_analytic(ratio, T, r):
    """With β = 50, x_θ = 1000 the output switches within ~1/x_θ of t*: |ΔL| ≤ 2/x_θ."""
    eps = _as_batch(ratio * optimum(T))
    sharp = loss(eps, T, r * T, beta=50.0, x_theta=1e3)
    np.testing.assert_allclose(sharp, loss(eps, T, r * T), atol=2e-3)


@given(ratio=st.floats(-2.0, 3.0), T=st.sampled_from([20.0, 40.0]), beta=st.floats(0.1, 2.0))
def test_euler_approaches_closed_form_for_small_dt(ratio, T, beta):
    """Euler (Δt = 0.005) against quadrature: first-order error, ≤ 0.05 + 1% here."""
    eps = _as_batch(ratio * optimum(T))
    kw = dict(beta=beta, x_theta=10.0)
    closed = np.asarray(loss(eps, T, **kw))
    euler = np.asarray(loss(eps, T, **kw, method="euler", dt=0.005))
    np.testing.assert_allclose(euler, closed, atol=0.05, rtol=0.01)
