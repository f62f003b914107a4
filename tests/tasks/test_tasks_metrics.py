"""Accuracy and loss of each task against hand computations (docs/model.md §2)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.tasks import DelayedActivation, DelayedCueDiscrimination, DelayedMatchToSample


def test_da_loss_is_sum_over_steps_divided_by_delay():
    task = DelayedActivation(delay=3, response=2)
    b = task.all_trials()
    z = jnp.array([0.1, 0.2, 0.6, 0.9, 0.3])[:, None, None]
    expected = (0.1**2 + 0.2**2 + 0.6**2 + 0.1**2 + 0.7**2) / 3
    assert task.loss_kind == "da"
    np.testing.assert_allclose(task.loss(z, b), expected, rtol=1e-6)
    # accuracy: 1[z > 0.5] vs target -> steps 0,1,3 right; 2,4 wrong
    np.testing.assert_allclose(task.accuracy(z, b), 3 / 5)


def test_dcd_accuracy_bins_at_033():
    task = DelayedCueDiscrimination(input=1, delay=1, response=1)
    b = task.all_trials()  # targets: s=-1: [0,0,-1]; s=+1: [0,0,1]
    z = jnp.array([[0.32, -0.32], [0.34, 0.0], [-0.5, 0.2]])[:, :, None]
    # decisions: [[0,0],[1,0],[-1,0]] vs targets [[0,0],[0,0],[-1,1]] -> 4 of 6
    np.testing.assert_allclose(task.accuracy(z, b), 4 / 6)
    np.testing.assert_allclose(
        task.loss(z, b), np.mean((np.asarray(z) - b.targets) ** 2), rtol=1e-6
    )
    assert task.loss_kind == "mse"


def test_dmts_accuracy_thresholds_at_half():
    task = DelayedMatchToSample(input=1, delay=1, response=1)
    b = task.all_trials()
    z = jnp.full((4, 4, 1), 0.4).at[-1, :, 0].set(jnp.array([0.6, 0.6, 0.4, 0.4]))
    # response step: targets [1,0,0,1], decisions [1,1,0,0] -> 2 wrong of 16
    np.testing.assert_allclose(task.accuracy(z, b), 14 / 16)
    np.testing.assert_allclose(
        task.loss(z, b), np.mean((np.asarray(z) - b.targets) ** 2), rtol=1e-6
    )


@pytest.mark.parametrize(
    "task",
    [DelayedActivation(2, 2), DelayedCueDiscrimination(1, 1, 1), DelayedMatchToSample(1, 1, 1)],
    ids=["da", "dcd", "dmts"],
)
def test_perfect_output_scores_one_and_zero_loss(task):
    b = task.repeat_trials(2)
    assert float(task.accuracy(b.targets, b)) == 1.0
    assert float(task.loss(b.targets, b)) == 0.0
