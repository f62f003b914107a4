"""Beyond the paper: critical lr against the delay (quick run; the exponent fit)."""

import jax
import numpy as np
import pytest

from ghostmech.paper import critical_delay


def test_quick_figure_passes(tmp_path):
    res = critical_delay.run(True, tmp_path, key=jax.random.PRNGKey(3))
    (claim,) = res.claims
    assert claim.verdict == "pass"
    assert claim.measured["eta_c_T4"] > claim.measured["eta_c_T10"]
    lo, hi = claim.measured["exponent_ci95"]
    assert lo <= claim.measured["exponent"] <= hi < 0
    assert claim.measured["exponent_points"] >= 6  # a fit over seeds × ≥ 3 delays
    assert all(f.exists() for f in res.files)


def test_per_seed_critical_reads_each_seed_alone():
    lrs = np.array([0.01, 0.1, 1.0, 10.0])
    final = np.array([[1.0, 1.0], [0.01, 1.0], [1.0, 0.01], [1.0, 1.0]])  # [lr, seed]
    got = critical_delay.per_seed_critical(lrs, final)
    np.testing.assert_allclose(got, [np.sqrt(0.1 * 1.0), np.sqrt(1.0 * 10.0)])
    assert np.isnan(critical_delay.per_seed_critical(lrs, np.ones((4, 1)))[0])  # never learned


def test_fit_exponent_recovers_a_power_law():
    T = np.array([10, 20, 40, 80])
    assert critical_delay.fit_exponent(T, 3.0 * T**-4.0) == pytest.approx(-4.0)
    assert critical_delay.fit_exponent(T, [1e-2, np.nan, 1e-2 / 4**3, np.nan]) == pytest.approx(
        -3.0
    )
    assert np.isnan(critical_delay.fit_exponent(T, [1e-2, np.nan, np.nan, np.nan]))
