"""Losses (docs/model.md §2) against a numpy re-implementation, gradients against finite differences."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.flatten_util
import numpy as np
import pytest
from training_cases import CHUNK, DA_TASK, DCD_TASK, da_net, dcd_net

from ghostmech.training import init_state, train_chunk


def _numpy_outputs(net, inputs):
    """Eq. 47 by hand, one trial at a time; readout per `net.read` (docs/model.md §2, §6)."""
    p = jax.tree.map(np.asarray, eqx.filter(net, eqx.is_array))
    w = p.w if p.w is not None else p.m @ p.nT.T
    zs = []
    for b in range(inputs.shape[1]):
        r, z = p.r0.astype(float), []
        for t in range(inputs.shape[0]):
            r_next = (1 - net.alpha) * r + net.alpha * np.tanh(w @ r + p.w_in @ inputs[t, b] + p.b)
            seen = r_next if net.read == "after" else r
            if p.m is not None:  # Eq. 36 on κ = Nᵀ r
                z.append(1 / (1 + np.exp(-p.readout.beta * (p.nT.T @ seen - p.readout.theta))))
            else:  # Eq. 38 with tanh
                z.append(np.tanh(p.readout.w_out @ seen + p.readout.b_out))
            r = r_next
        zs.append(np.stack(z))
    return np.stack(zs, axis=1)  # [time, batch, n_out]


def _first_epoch(net, task, batch, n_epochs=CHUNK, lr=0.1):
    """Loss and accuracy at the initial parameters, as training measures them."""
    state = init_state(net, optimizer="sgd", lr=lr, key=jax.random.key(1))
    new, metrics = train_chunk(state, task, n_epochs, batch=batch)
    return state, new, {k: float(v[0]) for k, v in metrics.items()}


def test_da_loss_is_sum_over_time_divided_by_delay():
    net = da_net(jax.random.key(0))
    net = eqx.tree_at(lambda n: n.m, net, net.m * 20.0)  # a non-trivial output
    batch = DA_TASK.all_trials()
    _, _, metrics = _first_epoch(net, DA_TASK, batch)
    z = _numpy_outputs(net, np.asarray(batch.inputs))
    y = np.asarray(batch.targets)
    assert 0.05 < metrics["loss"] < 1.9  # neither trivial nor saturated
    # float32 forward pass vs float64 numpy: agreement to ~1e-6 relative
    np.testing.assert_allclose(metrics["loss"], np.sum((z - y) ** 2) / DA_TASK.delay, rtol=2e-5)
    np.testing.assert_allclose(metrics["accuracy"], np.mean((z > 0.5) == (y > 0.5)), atol=1e-6)


def test_mse_loss_is_mean_over_batch_and_time():
    net = dcd_net(jax.random.key(2), noise_std=0.0)
    _, _, metrics = _first_epoch(net, DCD_TASK, 4)  # 4 trials drawn with the epoch's key
    k_batch = jax.random.split(jax.random.fold_in(jax.random.key(1), 0))[0]
    batch = DCD_TASK.sample(key=k_batch, batch=4)
    z = _numpy_outputs(net, np.asarray(batch.inputs))
    y = np.asarray(batch.targets)
    np.testing.assert_allclose(metrics["loss"], np.mean((z - y) ** 2), rtol=2e-5)
    decided = np.where(z > 0.33, 1.0, np.where(z < -0.33, -1.0, 0.0))
    np.testing.assert_allclose(metrics["accuracy"], np.mean(decided == y), atol=1e-6)


@pytest.mark.parametrize("kind", ["rank1_da", "full_dcd"])
def test_training_gradient_matches_finite_differences(kind):
    """One SGD step at lr = 1 moves θ by −∇L; compare with central differences (float64)."""
    with jax.enable_x64(True):
        if kind == "rank1_da":
            task, net = DA_TASK, da_net(jax.random.key(4))
            net = eqx.tree_at(lambda n: n.m, net, net.m * 15.0)
        else:
            task, net = DCD_TASK, dcd_net(jax.random.key(5))
        batch = task.all_trials()
        state, new, metrics = _first_epoch(net, task, batch, n_epochs=1, lr=1.0)
        grad = jax.tree.map(lambda a, b: a - b, state.params, new.params)
        flat, _ = jax.flatten_util.ravel_pytree(grad)
        p0, unravel = jax.flatten_util.ravel_pytree(state.params)

        def loss_at(theta):  # the loss training measures, at parameters theta
            s = eqx.tree_at(lambda s: s.params, state, unravel(theta))
            return float(train_chunk(s, task, 1, batch=batch)[1]["loss"][0])

        h = 1e-6
        fd = np.array(
            [(loss_at(p0 + h * e) - loss_at(p0 - h * e)) / (2 * h) for e in np.eye(p0.size)]
        )
        # central differences in float64: error O(h²)·L‴ + rounding 1e-16/h ≈ 1e-10
        np.testing.assert_allclose(flat, fd, rtol=1e-6, atol=1e-8)
        assert np.abs(fd).max() > 1e-3  # the check is not vacuous
        np.testing.assert_allclose(metrics["grad_norm"], np.linalg.norm(fd), rtol=1e-6)
