"""Ghost ε, null vectors and bottleneck passage vs closed forms and an ODE solver."""

from __future__ import annotations

import dyn_zoo as zoo
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from ghostmech.dynamics import (
    find_points,
    flow_1d,
    latent_field,
    passage_time,
    rnn_field,
    scalar_flow,
)


def test_dyn_passage_canonical_closed_form():
    eps, s0 = 1e-6, 1.0
    p = passage_time(zoo.Canonical(eps), jnp.zeros(1), window=s0, rtol=1e-10)
    assert p.status == "ok"
    # ẋ = ε + x² from −s0 to s0 takes exactly (2/√ε) arctan(s0/√ε)
    exact = 2 / np.sqrt(eps) * np.arctan(s0 / np.sqrt(eps))
    np.testing.assert_allclose(p.measured, exact, rtol=1e-6)
    np.testing.assert_allclose(p.predicted_window, exact, rtol=1e-12)
    assert abs(p.measured / p.predicted - 1) < 1e-3


def test_dyn_passage_rejects_non_ghost():
    with pytest.raises(ValueError, match="`x_g`"):
        passage_time(zoo.Canonical(-0.1), jnp.zeros(1))


@pytest.fixture(scope="module")
def two_pop():
    eps, n = 1e-7, 12
    m, nT, b, kg, C = zoo.two_population(n, eps)
    return dict(eps=eps, n=n, m=m, nT=nT, b=b, kg=kg, C=C, W=np.outer(m, nT))


def test_dyn_two_population_latent_epsilon(two_pop):
    F = scalar_flow(latent_field(two_pop["m"], two_pop["nT"], two_pop["b"]))
    fl = flow_1d(F, -4.0, 4.0)
    assert fl.kinds() == ["ghost", "stable"]
    g = fl.points[0]
    np.testing.assert_allclose(g.kappa, two_pop["kg"], rtol=1e-9)
    np.testing.assert_allclose(g.eps, two_pop["eps"], rtol=1e-6)


def test_dyn_two_population_network_dwell_time(two_pop):
    """Full N-D network: ghost ε matches the latent one; passage within 1 % of π/√ε."""
    f = rnn_field(two_pop["W"], two_pop["b"])
    kg = two_pop["kg"]
    x_g0 = np.tanh(two_pop["m"] * kg + two_pop["b"])  # the latent ghost mapped to rates
    rng = np.random.default_rng(0)
    starts = x_g0 + 0.05 * rng.normal(size=(6, two_pop["n"]))
    pts = find_points(f, starts)
    gi = pts.where("ghost")
    assert len(gi) == 1
    g = gi[0]
    np.testing.assert_allclose(pts.eps[g], two_pop["eps"], rtol=1e-3)
    np.testing.assert_allclose(pts.xstar[g] @ two_pop["nT"], kg, atol=1e-3)
    p = passage_time(f, pts.xstar[g], window=0.2)
    assert p.status == "ok"
    assert abs(p.measured / p.predicted - 1) < 0.01
    # the same passage from the latent 1-D flow, F(κ) = −κ + A tanh(κ) + C in numpy:
    # t = ∫ dκ / F(κ) over the window (mapped to κ units), by adaptive quadrature
    s0 = 0.2 * abs(float(pts.v[g] @ two_pop["nT"]))
    t, _ = quad(
        lambda k: 1.0 / (-k + 2.0 * np.tanh(k) + two_pop["C"]),
        kg - s0,
        kg + s0,
        points=[kg],
        limit=200,
        epsabs=0.0,
        epsrel=1e-10,
    )
    np.testing.assert_allclose(p.measured, t, rtol=2e-3)
