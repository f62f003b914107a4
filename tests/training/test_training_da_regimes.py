"""Rank-one RNN on delayed activation (docs/model.md §4 Fig. 3): plateau → abrupt drop, and the trap.

Settings of Fig. 3A/B (N = 100, DA 20 + 20 steps, SGD, readout Eq. 36 with β = 10,
κ_θ = 1, r₀ = −0.3, m, n ~ N(0, 1/N), b = 0) at larger learning rates, so the
events come within 3000 epochs. Measured (float32, CPU, seeds 0-3): at lr 0.05 the
loss sits at ≈ 1 for 1800-2700 epochs, then falls within a few epochs (minimum
0.007-0.26), oscillates, and is later trapped (as at lr 0.02 in the paper); at
lr 0.2 it is trapped from 450-700 epochs on with gradient norm ≲ 1e-15 and
output ≈ 0. After the drop the run is chaotic: the exact epochs depend on float
rounding, so only the robust features are asserted. The paper's lr 0.003 (plateau of
~2·10⁵ epochs) is the slow test.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation
from ghostmech.training import detect, sweep

TASK = DelayedActivation(delay=20, response=20)


def _build(key):
    return make_preset("fig3a", n=100, key=key)


@pytest.fixture(scope="module")
def runs():
    return sweep(_build, TASK, lrs=[0.05, 0.2], seeds=[1], epochs=3000, chunk=1000)


def test_moderate_lr_plateau_then_abrupt_drop(runs):
    loss, grad = runs.metrics["loss"][0, 0], runs.metrics["grad_norm"][0, 0]
    found = detect(loss, grad)
    onset, offset = found.plateaus[0]
    assert onset == 0 and offset >= 1500
    assert loss[:1500].min() > 0.99  # output ≈ 0 throughout the plateau
    e = int(np.argmax(loss < 0.95))  # the loss leaves the plateau ...
    assert e >= 1500 and loss[e : e + 50].min() < 0.6  # ... and falls abruptly
    assert found.jumps.size and abs(found.jumps[0] - e) <= 100
    assert grad[e : e + 50].max() > 10 * grad[0]  # the gradient norm jumps at the drop


def test_large_lr_is_trapped_with_zero_gradient_and_zero_output(runs):
    loss, grad = runs.metrics["loss"][1, 0], runs.metrics["grad_norm"][1, 0]
    found = detect(loss, grad)
    assert found.status == "trapped" and 0 < found.trapped_from < 1500
    assert grad[-1] < 1e-12 and loss[-1] > 0.99
    net = jax.tree.map(lambda x: x[1, 0] if eqx.is_array(x) else x, runs.params)
    _, z = net(TASK.all_trials().inputs[:, 0])
    assert float(np.max(z)) < 1e-3  # confidently 0: the no-learning zone


@pytest.mark.slow
def test_paper_lr_learns_after_a_long_plateau():
    """Fig. 3A: lr 0.003. Measured: plateau to ~4.2-4.5e4 epochs, then learned (loss < 3e-3)."""
    res = sweep(_build, TASK, lrs=[0.003], seeds=[1], epochs=100_000, chunk=20_000)
    found = detect(res.metrics["loss"][0, 0], res.metrics["grad_norm"][0, 0])
    assert found.plateaus[0][0] == 0 and found.plateaus[0][1] > 20_000
    assert found.jumps.size and found.status == "learned"
    assert res.metrics["loss"][0, 0, -1000:].max() < 0.1
