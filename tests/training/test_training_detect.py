"""Plateau / jump / no-learning detection on curves whose events are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from ghostmech.training import detect, jumps, no_learning, plateaus


def _drop_curve(epochs=2000, at=1200, width=4.0):
    """Loss ≈ 1 (slowly creeping down), then a sigmoid drop to 0.05 centred at ``at``."""
    e = np.arange(epochs)
    return 0.05 + 0.95 / (1 + np.exp((e - at) / width)) - 1e-6 * e


def test_plateau_then_abrupt_drop():
    loss = _drop_curve()
    grad = np.full_like(loss, 1e-3)
    found = detect(loss, grad)
    assert found.plateaus[0][0] == 0
    assert 1100 <= found.plateaus[0][1] <= 1200  # ends where the drop starts (within the window)
    assert found.jumps.tolist() == [1200]  # steepest one-epoch fall is at the centre
    assert found.trapped_from == -1 and found.status == "learned"


def test_trapped_in_the_no_learning_zone():
    e = np.arange(1000)
    loss = np.where(e < 300, 1.0 - 1e-4 * e, 1.0)
    grad = np.where(e < 300, 1e-3, 1e-20)
    flags, trapped = no_learning(loss, grad)
    assert trapped == 300 and flags[300:].all() and not flags[:300].any()
    assert detect(loss, grad).status == "trapped"


def test_small_gradient_at_low_loss_is_not_trapped():
    loss = np.linspace(1.0, 0.01, 500)
    grad = np.full(500, 1e-20)
    assert no_learning(loss, grad)[1] == -1
    assert plateaus(loss) == []  # a steady decline is not a plateau
    assert jumps(loss).size == 0  # nor an abrupt drop


def test_diverged_curves_are_reported():
    loss = _drop_curve()
    loss[1500:] = np.nan
    found = detect(loss, np.ones_like(loss))
    assert found.status == "diverged"
    assert all(b < 1500 for _, b in found.plateaus)


@pytest.mark.parametrize(
    "kwargs, name", [({"window": 0}, "window"), ({"drop_tol": -1.0}, "drop_tol")]
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        detect(np.ones(10), np.ones(10), **kwargs)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="`grad_norm`"):
        no_learning(np.ones(10), np.ones(9))
