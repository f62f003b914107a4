"""Gradient descent on ε: plateau length, the critical learning rate, trapping."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from ghostmech.canonical import (
    critical_lr,
    descend,
    loss,
    loss_grad,
    optimum,
    point_of_no_return,
)

T = 100.0
EPS_STAR = optimum(T)
ETA_C = critical_lr(T)


@pytest.mark.parametrize(
    "method, T_loop", [("euler", 20.0), pytest.param("closed", 100.0, marks=pytest.mark.slow)]
)
def test_descent_matches_a_written_out_loop(method, T_loop):
    """Finite-β descent (Euler at T=20 in the quick suite: it compiles in a second)."""
    kw = dict(beta=0.5, x_theta=10.0, method=method)
    e_star = optimum(T_loop)
    starts = e_star * np.array([0.2, 0.9, 1.5, 3.0])
    lrs = critical_lr(T_loop) * np.array([0.1, 0.5])
    eps0, eta = (a.reshape(-1) for a in np.broadcast_arrays(starts[:, None], lrs[None, :]))
    run = descend(eps0, eta, 5, T=T_loop, **kw)
    traj = [eps0]
    for _ in range(5):
        traj.append(traj[-1] - eta * np.asarray(loss_grad(traj[-1], T_loop, **kw)))
    np.testing.assert_allclose(run.eps, np.stack(traj, -1), rtol=1e-12)
    losses = np.stack([loss(e, T_loop, **kw) for e in traj], -1)
    np.testing.assert_allclose(run.loss, losses, rtol=1e-12)
    assert run.eps.shape == (8, 6) and run.status.tolist() == [0] * 8
    assert not np.allclose(run.eps[:, -1], eps0)  # it moved


def test_plateau_length_matches_continuous_estimate():
    """docs/theory.md: k ≈ 8(ε_init^{5/2} − ε*^{5/2})/(5πη) epochs to first reach ε ≤ ε*."""
    eta, start = 1e-10, 10 * EPS_STAR
    run = descend(start, eta, 3000, T=T)
    estimate = 8 * (start**2.5 - EPS_STAR**2.5) / (5 * np.pi * eta)
    assert estimate == pytest.approx(1535.3, abs=0.1)
    assert int(run.plateau_end) == pytest.approx(estimate, rel=0.05)
    # abrupt drop then oscillation around ε*: late epochs stay within one step of ε*
    step = eta * 2 * T**3 / np.pi**2
    tail = np.asarray(run.eps[2000:])
    assert np.all(np.abs(tail - EPS_STAR) < 1.5 * step) and not bool(run.trapped)


def test_broadcasting_shapes_and_no_recompile():
    starts = EPS_STAR * np.array([2.0, 5.0, 10.0])
    lrs = np.array([1e-10, 3e-10])
    run = descend(starts[:, None], lrs[None, :], 20, T=T)
    assert run.eps.shape == (3, 2, 21) and run.trapped.shape == (3, 2)
    np.testing.assert_array_equal(run.lr, np.broadcast_to(lrs, (3, 2)))
    from ghostmech.canonical.descent import _descend_jit

    before = _descend_jit._cache_size()
    descend(starts[:2, None] * 1.1, lrs[None, :] * 2, 20, T=T)  # new data, same bucket
    assert _descend_jit._cache_size() == before


def test_below_critical_lr_never_trapped():
    """η < η_c: no step from ε ≥ ε* crosses ε₀ (Eq. 23 is a sufficient bound)."""
    key = jax.random.PRNGKey(3)
    starts = EPS_STAR * (1 + 10 ** jax.random.uniform(key, (64,), minval=-8, maxval=1))
    run = descend(starts, 0.99 * ETA_C, 3000, T=T)
    assert float(run.eps.min()) > point_of_no_return(T)
    assert not bool(run.trapped.any())


def test_just_above_critical_lr_one_step_traps():
    run = descend(EPS_STAR * (1 + 1e-6), 1.01 * ETA_C, 3000, T=T)
    assert float(run.eps[1]) < point_of_no_return(T) and bool(run.trapped)
    assert float(run.loss[-1]) == T  # the no-learning zone: L = R = T, gradient 0
    np.testing.assert_array_equal(run.eps[1:], run.eps[1])


@pytest.mark.parametrize(
    "epochs", [pytest.param(20_000), pytest.param(200_000, marks=pytest.mark.slow)]
)
def test_at_105_percent_of_critical_lr_random_far_starts_get_trapped(epochs):
    """docs/theory.md §3: at 1.05 η_c all 8 starts 10ε* + N(0,(ε*/10)²) trapped within 200,000 epochs.

    With this key all 8 are already trapped by 20,000 epochs (the quick variant).
    """
    starts = 10 * EPS_STAR + EPS_STAR / 10 * jax.random.normal(jax.random.PRNGKey(0), (8,))
    run = descend(starts, 1.05 * ETA_C, epochs, T=T)
    assert int(run.trapped.sum()) == 8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=0.0), "`lr`"),
        (dict(lr=-1e-10), "`lr`"),
        (dict(lr=float("nan")), "`lr`"),
        (dict(epochs=0), "`epochs`"),
        (dict(epochs=2.5), "`epochs`"),
        (dict(T=-1.0), "`T`"),
        (dict(beta=0.0), "`beta`"),
        (dict(scale="mean"), "`scale`"),
    ],
)
def test_bad_descent_arguments(kwargs, match):
    args = dict(eps_init=EPS_STAR, lr=1e-10, epochs=10, T=T) | kwargs
    with pytest.raises(ValueError, match=match):
        descend(**args)
