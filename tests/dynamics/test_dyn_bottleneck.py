"""Ghost or ramp (docs/theory.md §4): measured passages of simulated networks against
the closed forms, planted ghosts found, ramps (negative controls) not called ghosts."""

from __future__ import annotations

import numpy as np
import pytest

from ghostmech.dynamics import (
    CONTRAST_MIN,
    SHARE_MIN,
    bottleneck,
    find_points,
    flow_1d,
    latent_field,
    rnn_field,
    scalar_flow,
)

ALPHA = 0.5
Y_MIN = -np.arccosh(np.sqrt(2.0))  # sech²(y) = 1/2: extremum of −κ + 2 tanh(κ + b)


def planted(n: int, f_g: float, seed: int = 0):
    """Rank-one net with m_i = ±1, n_i = 2 m_i / N, b_i = m_i b: its latent flow is exactly
    F(κ) = −κ + 2 tanh(κ + b) (tanh odd), with a ghost at κ_g = y − b, y = −arccosh √2,
    F(κ_g) = f_g, F″(κ_g) = −2 tanh y; so ε per step = α² f_g (−tanh y)."""
    sgn = np.random.default_rng(seed).choice([-1.0, 1.0], n)
    b = 2 * np.tanh(-Y_MIN) + Y_MIN + f_g  # F(κ_g) = −y + b + 2 tanh y = f_g
    m, nT, bias = sgn, 2 * sgn / n, sgn * b
    eps = ALPHA**2 * f_g * (-np.tanh(Y_MIN))
    return m, nT, bias, Y_MIN - b, eps


def euler_map(m, nT, b, r0, steps):
    """The network itself: r ← (1 − α) r + α tanh(m nᵀ r + b), [steps + 1, N]."""
    W = np.outer(m, nT)
    rs = [r0]
    for _ in range(steps):
        rs.append((1 - ALPHA) * rs[-1] + ALPHA * np.tanh(W @ rs[-1] + b))
    return np.stack(rs)


def crossing(x: np.ndarray, level: float) -> int:
    return int(np.argmax(x >= level))


@pytest.fixture(scope="module")
def ghost_net():
    m, nT, b, kg, eps = planted(40, 1e-5)
    kappa0 = kg - 0.5
    r0 = kappa0 * m / (nT @ m)  # κ₀ = nᵀ r₀ (the latent map is exact from any r₀)
    rs = euler_map(m, nT, b, r0, 4000)
    return m, nT, b, kg, eps, rs


def test_dyn_planted_ghost_rank1_measured_dwell(ghost_net):
    m, nT, b, kg, eps, rs = ghost_net
    f = latent_field(m, nT, b, alpha=ALPHA)
    fl = flow_1d(scalar_flow(f), -3.0, 3.0)
    g = [p for p in fl.points if p.kind == "ghost"]
    assert len(g) == 1
    np.testing.assert_allclose(g[0].kappa, kg, atol=1e-6)
    np.testing.assert_allclose(g[0].eps, eps, rtol=1e-6)  # closed form
    kappa = rs @ nT
    exit_ = crossing(kappa, kg + 0.5)
    bn = bottleneck(f, kappa[None, :, None], [g[0].kappa], exits=[exit_], dt=ALPHA)
    assert bn.kind == "ghost" and bn.status == "ok"
    # the network's own passage from κ_g − 0.5 to κ_g + 0.5 takes π/√ε (window error ≈ 1 %)
    assert abs(bn.measured_delay / bn.passage_full - 1) < 0.05
    assert abs(bn.measured_delay / bn.predicted_delay - 1) < 0.02
    # half of the full passage inside B (theory §4), measured
    assert abs(bn.measured_in_bottleneck / (bn.passage_full / 2) - 1) < 0.05
    assert bn.contrast > 100 and bn.share > SHARE_MIN
    assert bn.to_dict()["passage_full_tau"] == pytest.approx(ALPHA * bn.passage_full)


def test_dyn_planted_ghost_full_state_measured_dwell(ghost_net):
    """The same network analysed in N-D (the finder does not know W is rank one)."""
    m, nT, b, kg, eps, rs = ghost_net
    f = rnn_field(np.outer(m, nT), b, alpha=ALPHA)
    pts = find_points(f, rs[::40])
    rows = pts.where("ghost")
    assert len(rows) == 1
    np.testing.assert_allclose(pts.eps[rows[0]], eps, rtol=1e-4)
    exit_ = crossing(rs @ nT, kg + 0.5)
    bn = bottleneck(f, rs[None], pts.xstar[rows[0]], exits=[exit_], dt=ALPHA)
    assert bn.kind == "ghost"
    assert abs(bn.measured_delay / bn.passage_full - 1) < 0.05


def quadratic_run(v0: float, c: float, lo: float, hi: float):
    f = lambda x: v0 + c * x**2  # noqa: E731
    xs = [np.array([lo])]
    while xs[-1][0] < hi:
        xs.append(xs[-1] + f(xs[-1]))
    return f, np.stack(xs)


def test_dyn_ramp_negative_control_quadratic():
    """The canonical model itself over a span |u| ≪ 1: a ramp at ~0.14 per step with a
    5 % dip (π/√ε ≈ 150 steps, crossing after ≈ 21): not a ghost."""
    v0, L = 0.14, 1.5
    c = 0.05 * v0 / L**2
    f, xs = quadratic_run(v0, c, -L, L)
    bn = bottleneck(f, xs[None], np.zeros(1))
    assert bn.kind == "shallow"
    assert bn.contrast < CONTRAST_MIN and bn.passage_full > 5 * bn.measured_delay
    assert abs(bn.measured_delay - 2 * L / v0) <= 2  # the ramp's length / its speed
    assert abs(bn.measured_delay - bn.predicted_delay) <= 1.5


def test_dyn_ghost_positive_control_quadratic():
    """Same model, span reaching |u| = 5: a bottleneck."""
    f, xs = quadratic_run(1e-3, 1.0, -5 * np.sqrt(1e-3), 5 * np.sqrt(1e-3))
    bn = bottleneck(f, xs[None], np.zeros(1))
    assert bn.kind == "ghost" and bn.contrast >= 25
    assert abs(bn.measured_in_bottleneck - bn.predicted_in_bottleneck) <= 2


def ramp_network(n: int = 60, seed: int = 1):
    """Rank-one net whose latent flow is ≈ 0.28 + 0.0056 κ² per τ on [−2.5, 1.5] (least
    squares over random tanh units): a long uniform ramp with a shallow minimum."""
    rng = np.random.default_rng(seed)
    m, b = rng.normal(0, 1.0, n), rng.uniform(-2, 2, n)
    k = np.linspace(-3, 2, 400)
    target = k + 0.28 + 0.0056 * k**2
    nT = np.linalg.lstsq(np.tanh(np.outer(k, m) + b), target, rcond=None)[0]
    return m, nT, b


def test_dyn_ramp_network_negative_control():
    m, nT, b = ramp_network()
    f = latent_field(m, nT, b, alpha=ALPHA)
    fl = flow_1d(scalar_flow(f), -2.5, 1.5)
    cands = [p for p in fl.points if p.kind == "ghost"]
    assert cands, "the structural test (F′ = 0, F·F″ > 0) must see a candidate"
    r0 = -2.1 * m / (nT @ m)
    kappa = euler_map(m, nT, b, r0, 60) @ nT
    exit_ = crossing(kappa, 1.0)
    assert 0 < exit_ < 60
    kinds = [bottleneck(f, kappa[None, :, None], [p.kappa], exits=[exit_]).kind for p in cands]
    assert "ghost" not in kinds
    assert "shallow" in kinds


def test_dyn_bottleneck_off_path_and_arguments():
    f, xs = quadratic_run(1e-3, 1.0, 0.5, 1.0)  # starts after the minimum
    assert bottleneck(f, xs[None], np.zeros(1)).kind == "off_path"
    with pytest.raises(ValueError, match="`x_g`"):
        bottleneck(lambda x: -1e-3 + x**2, xs[None], np.zeros(1))
    with pytest.raises(ValueError, match="`trajectories`"):
        bottleneck(f, np.zeros((1, 1, 1)), np.zeros(1))
