"""Fig. 8A verdict logic: the paper's ratios pass; wrong size, sign or decay fail.

The library's own ratios are checked by the quick reproduction (tests/cli).
"""

import numpy as np
import pytest

from ghostmech.paper import fig8a


def _verdicts(signed):
    return {c.id: c.verdict for c in fig8a._claims(np.asarray(signed))}


def test_spec_ratios_pass():
    assert set(_verdicts([-r for r in fig8a.PAPER_RATIOS]).values()) == {"pass"}


@pytest.mark.parametrize(
    ("factor", "failing"),
    [(3.0, "zone_gradient_ratio"), (-1.0, "zone_gradient_points_to_recovery")],
)
def test_wrong_values_fail(factor, failing):
    assert _verdicts([-factor * r for r in fig8a.PAPER_RATIOS])[failing] == "fail"


def test_flat_decay_fails():
    signed = -np.full(len(fig8a.BETAS), 1e-4)
    assert _verdicts(signed)["zone_gradient_decay"] == "fail"
