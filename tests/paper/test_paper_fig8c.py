"""Fig. 8C: the rescue measure on hand-made learning curves, and the quick run."""

import jax
import numpy as np
import pytest

from ghostmech.paper import fig8c

L0 = 0.5


def _curves(final_by_condition, trapped=True, epochs=4):
    """One seed: phase 1 ends at L0 (trapped) or 0 (learned); phase 2 ends at the given values."""
    p1 = L0 if trapped else 0.0
    rows = [np.r_[np.full(epochs, p1), np.full(epochs, f)] for f in final_by_condition]
    return np.stack(rows)


def _claim(seeds):
    loss = np.stack(seeds)
    m = fig8c.measure(loss, 4, L0)
    return m, fig8c._claim(m, L0)


def test_rescue_fractions_count_only_trapped_seeds():
    good = [L0, 0.0, 0.0, 0.0, L0]  # c = 0.1 fails, 0.5/1/3 rescue, free stays trapped
    m, claim = _claim([_curves(good)] * 10 + [_curves([0.0] * 5, trapped=False)])
    assert m["trapped"].sum() == 10 and not m["trapped"][-1]
    np.testing.assert_array_equal(m["rescued"], [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(m["rescued_count"], [0, 10, 10, 10, 0])
    assert claim.verdict == "pass"
    # Fisher: 10/10 vs 0/10 gives p = 1/C(20, 10)
    assert claim.measured["p_best_vs_free"] == pytest.approx(1 / 184756)
    assert claim.measured["rescued_at_best_ci95"][0] > 0.6


def test_three_trapped_seeds_cannot_decide():
    """3/3 rescued vs 0/3 is p = 0.05 one-sided: above α/4, so the claim is not shown."""
    good = [L0, 0.0, 0.0, 0.0, L0]
    assert _claim([_curves(good)] * 3)[1].verdict == "fail"


def test_a_weak_effect_fails_where_the_old_margin_rule_passed():
    """11 trapped, best c rescues 5 (0.45), free 1, c = 0.1 none: the old rule (peak − free ≥
    0.25) would pass on the free side; Fisher p = 0.08 > α/4 does not."""
    seeds = [_curves([L0, 0.0, L0, L0, L0])] * 5 + [_curves([L0, L0, L0, L0, 0.0])]
    seeds += [_curves([L0] * 5)] * 5
    m, claim = _claim(seeds)
    assert m["rescued_count"].tolist() == [0, 5, 0, 0, 1]
    assert claim.measured["p_best_vs_free"] > 0.0125 and claim.verdict == "fail"


@pytest.mark.slow
def test_quick_claim_passes(tmp_path):
    result = fig8c.run(True, tmp_path, key=jax.random.key(0))
    assert result.claims[0].verdict == "pass"
