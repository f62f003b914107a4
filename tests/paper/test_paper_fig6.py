"""Figs. 6A-B quick runs and the critical-lr reading of a fraction-learned curve."""

import math

import jax
import numpy as np
import pytest

from ghostmech.paper import fig6a, fig6b
from ghostmech.paper.critical_delay import critical_from_fraction

QUICK_VERDICTS = {
    "fig6a": {"critical_lr_rank1_vs_full": "pass"},
    # trapped-less is decided at full size only (the quick run cannot show it)
    "fig6b": {"more_ranks_learn_faster": "pass", "more_ranks_trapped_less": "not-run"},
}


@pytest.mark.parametrize("module", [fig6a, fig6b], ids=["fig6a", "fig6b"])
def test_quick_figure_passes(module, tmp_path):
    res = module.run(True, tmp_path, key=jax.random.PRNGKey(3))
    assert {c.id: c.verdict for c in res.claims} == QUICK_VERDICTS[res.figure]
    assert all(f.exists() for f in res.files)


def test_fig6a_ratio_interval_rules():
    eta = (1.0, 1.0, 1.0)
    r1 = np.array([0.05, 0.06, 0.05, 0.055, 0.05])
    full = 100 * r1[::-1]  # two decades
    assert fig6a._claim(eta, eta, r1, full, 0.2).verdict == "pass"
    assert fig6a._claim(eta, eta, r1, 10**0.5 * r1, 0.2).verdict == "fail"  # half a decade
    assert fig6a._claim(eta, eta, r1, 10**0.5 * r1, 0.2, quick=True).verdict == "pass"
    assert fig6a._claim(eta, eta, r1, r1 / 3, 0.2, quick=True).verdict == "fail"  # lower
    few = np.array([0.05, np.nan, np.nan, np.nan, np.nan])
    assert fig6a._claim(eta, eta, few, full, 0.2).verdict == "fail"  # η_c for 1 of 5 seeds


def test_fig6b_claims_are_tests():
    def stats(censored, trapped):
        return {"censored": np.asarray(censored, float), "trapped": np.asarray(trapped, bool)}

    slow, fast = np.full((4, 6), 700.0), np.full((4, 6), 200.0)
    slow[0, 0] = 100.0  # not constant
    many = np.zeros((4, 6), bool)
    many[1:] = True
    few = np.zeros((4, 6), bool)
    c = fig6b._claims((1, 100), {1: stats(slow, many), 100: stats(fast, few)})
    assert [x.verdict for x in c] == ["pass", "pass"]
    c = fig6b._claims((1, 100), {1: stats(fast, few), 100: stats(slow, many)})
    assert [x.verdict for x in c] == ["fail", "fail"]  # negative control: reversed
    c = fig6b._claims((1, 100), {1: stats(slow, many), 100: stats(fast, few)}, quick=True)
    assert c[1].verdict == "not-run" and c[1].measured["p_fisher"] < 1e-6


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
