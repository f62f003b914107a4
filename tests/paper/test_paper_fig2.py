"""Fig. 2: the threshold helper, and a wrong library (gradient ×10) failing the η_c verdict."""

import jax
import numpy as np
import pytest

from ghostmech import canonical as cm
from ghostmech.canonical import landscape
from ghostmech.paper import fig2

SMALL = fig2.Sizes(n_eps=31, n_lrs=100, n_starts=2, epochs=1000, checkpoints=(1000,))


def test_threshold_brackets_the_onset_of_trapping():
    lrs = np.geomspace(1e-11, 1e-8, 7)  # ratio 10^0.5 between neighbours
    frac = np.array([0, 0, 0, 0.1, 1, 1, 1])
    lo, hi, mid = fig2.threshold(lrs, frac)
    assert (lo, hi) == (lrs[2], lrs[3])
    assert mid == pytest.approx(np.sqrt(lrs[2] * lrs[3]))
    assert all(np.isnan(fig2.threshold(lrs, np.zeros(7))))


@pytest.fixture
def fresh_jit_caches():
    """Patched kernels must be re-traced, and must not leak into later tests."""
    jax.clear_caches()
    yield
    jax.clear_caches()


def test_gradient_scaled_by_ten_fails_the_threshold_verdict(monkeypatch, fresh_jit_caches):
    """The unpatched library passes these claims (tests/cli/test_cli_reproduce.py)."""
    # The raw analytic gradient that loss_grad, descend and find_critical_lr share.
    true_grad = landscape.analytic_grad
    monkeypatch.setattr(landscape, "analytic_grad", lambda e, T, R: 10 * true_grad(e, T, R))
    eps = 2 * fig2.EPS_STAR
    wrong = float(cm.loss_grad(eps, fig2.T))
    assert wrong == pytest.approx(10 * float(true_grad(eps, 100.0, 100.0)))
    _, _, claims, measured = fig2.sweep(SMALL, key=jax.random.PRNGKey(0))
    assert {c.id: c.verdict for c in claims}["threshold_matches_eq23"] == "fail"
    assert measured == pytest.approx(fig2.ETA_C / 10, rel=0.1)  # the sweep saw the patch
