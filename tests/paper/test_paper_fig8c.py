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
    m, claim = _claim([_curves(good)] * 3 + [_curves([0.0] * 5, trapped=False)])
    assert m["trapped"].tolist() == [True, True, True, False]
    np.testing.assert_array_equal(m["rescued"], [0, 1, 1, 1, 0])
    assert claim.verdict == "pass"


@pytest.mark.parametrize(
    "finals",
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],  # free rescues as well: no effect of fixing c
        [L0, L0, L0, L0, L0],  # nothing rescues
        [0.0, 0.0, 0.0, 0.0, L0],
    ],  # the lowest c rescues too: no "too low"
)
def test_claim_fails_without_the_effect(finals):
    assert _claim([_curves(finals)] * 3)[1].verdict == "fail"


@pytest.mark.slow
def test_quick_claim_passes(tmp_path):
    result = fig8c.run(True, tmp_path, key=jax.random.key(0))
    assert result.claims[0].verdict == "pass"
