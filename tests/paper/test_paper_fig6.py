"""Figs. 6A-B quick runs and the critical-lr reading of a fraction-learned curve."""

import math

import jax
import numpy as np
import pytest

from ghostmech.paper import fig6a, fig6b
from ghostmech.paper.critical_delay import critical_from_fraction


@pytest.mark.parametrize("module", [fig6a, fig6b], ids=["fig6a", "fig6b"])
def test_quick_figure_passes(module, tmp_path):
    res = module.run(True, tmp_path, key=jax.random.PRNGKey(3))
    assert {c.id: c.verdict for c in res.claims} == {c.id: "pass" for c in res.claims}
    assert all(f.exists() for f in res.files)


def test_critical_lr_brackets_the_fall_after_the_peak():
    lrs = np.logspace(-3, 0, 7)
    frac = np.array([0.0, 0.2, 1.0, 0.9, 0.3, 0.0, 0.6])  # too slow, learns, trapped
    lo, hi, mid = critical_from_fraction(lrs, frac)
    assert (lo, hi) == (lrs[3], lrs[4])
    assert mid == pytest.approx(math.sqrt(lrs[3] * lrs[4]))
    assert all(math.isnan(x) for x in critical_from_fraction(lrs, np.full(7, 0.4)))
    assert all(math.isnan(x) for x in critical_from_fraction(lrs, np.ones(7)))


def test_epochs_to_learn():
    loss = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(fig6b.epochs_to_learn(loss), [2.0, np.nan])
