"""Empirical critical learning rate and its scaling with the delay T."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from ghostmech.canonical import critical_lr, find_critical_lr, scaling_exponent


def test_critical_lr_matches_eq_23():
    """docs/theory.md: η_c = 3π⁴/(32T⁵) (raw) and 3π⁴/(32T⁴) (per_T) when R = T."""
    for T in (20.0, 100.0, 1000.0):
        assert critical_lr(T) == pytest.approx(3 * np.pi**4 / (32 * T**5), rel=1e-14)
        assert critical_lr(T, scale="per_T") == pytest.approx(3 * np.pi**4 / (32 * T**4))
    assert f"{critical_lr(100.0):.4e}" == "9.1321e-10"


@pytest.mark.parametrize("T", [50.0, 100.0, 200.0])
def test_simulated_threshold_within_2_percent(T):
    res = find_critical_lr(T, key=jax.random.PRNGKey(int(T)), n_starts=8, epochs=500)
    assert res.status == "ok"
    assert res.measured == pytest.approx(res.theory, rel=0.02)
    # the bound is sufficient: nothing trapped below theory; something at the measured lr
    frac = dict(zip(res.lrs, res.fraction_trapped, strict=True))
    assert all(f == 0 for lr, f in frac.items() if lr < res.theory)
    assert frac[res.measured] > 0


def test_far_starts_need_a_little_more_than_eta_c():
    res = find_critical_lr(
        100.0, key=jax.random.PRNGKey(0), starts="far", epochs=3000, scale="per_T", tol=1e-2
    )
    assert res.status == "ok" and res.theory <= res.measured < 1.1 * res.theory


@pytest.mark.parametrize("scale, expected", [("per_T", -4.0), ("raw", -5.0)])
def test_scaling_exponent(scale, expected):
    fit = scaling_exponent(
        [25.0, 50.0, 100.0, 200.0], key=jax.random.PRNGKey(1), scale=scale, epochs=200, tol=1e-2
    )
    assert fit.status == "ok"
    assert fit.theory_exponent == pytest.approx(expected, abs=1e-9)
    assert fit.exponent == pytest.approx(expected, abs=0.02)


def test_fixed_window_exponent_tends_to_minus_six():
    # η_c ∝ (ε* − ε₀) ε*^{3/2} with ε₀ → ε* as T ≫ R: ε* − ε₀ ≈ π²R/(2T³) → T⁻⁶
    fit = scaling_exponent([400.0, 800.0], 5.0, key=jax.random.PRNGKey(2), epochs=200, tol=1e-2)
    assert fit.theory_exponent == pytest.approx(-6.0, abs=0.05)
    assert fit.exponent == pytest.approx(fit.theory_exponent, abs=0.05)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(T=0.0), "`T`"),
        (dict(R=-1.0), "`R`"),
        (dict(n_starts=0), "`n_starts`"),
        (dict(tol=0.0), "`tol`"),
        (dict(starts="middle"), "`starts`"),
        (dict(scale="L/T"), "`scale`"),
    ],
)
def test_bad_finder_arguments(kwargs, match):
    args = dict(T=100.0, key=jax.random.PRNGKey(0)) | kwargs
    with pytest.raises(ValueError, match=match):
        find_critical_lr(**args)


def test_scaling_needs_two_delays():
    with pytest.raises(ValueError, match="`Ts`"):
        scaling_exponent([100.0], key=jax.random.PRNGKey(0))
