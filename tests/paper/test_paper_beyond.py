"""Beyond the paper: critical lr against the delay (quick run; the exponent fit)."""

import jax
import numpy as np
import pytest

from ghostmech.paper import critical_delay


def test_quick_figure_passes(tmp_path):
    res = critical_delay.run(True, tmp_path, key=jax.random.PRNGKey(3))
    (claim,) = res.claims
    assert claim.verdict == "pass"
    assert claim.measured["eta_c_T5"] > claim.measured["eta_c_T10"]
    assert all(f.exists() for f in res.files)


def test_fit_exponent_recovers_a_power_law():
    T = np.array([10, 20, 40, 80])
    assert critical_delay.fit_exponent(T, 3.0 * T**-4.0) == pytest.approx(-4.0)
    assert critical_delay.fit_exponent(T, [1e-2, np.nan, 1e-2 / 4**3, np.nan]) == pytest.approx(
        -3.0
    )
    assert np.isnan(critical_delay.fit_exponent(T, [1e-2, np.nan, np.nan, np.nan]))
