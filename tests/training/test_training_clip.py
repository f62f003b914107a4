"""Gradient-norm clipping (``clip_norm``): one step by hand, no-op when loose, grids, errors."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from training_cases import CHUNK, DA_TASK, DCD_TASK, da_net, dcd_net

from ghostmech.training import fit, init_state, loss_and_metrics, sweep, train_chunk
from ghostmech.training.state import make_optimizer, split_network


def _grad(net, batch):
    params, frozen, skeleton = split_network(net)

    def loss(p):
        return loss_and_metrics(eqx.combine(p, frozen, skeleton), batch, key=None, task=DCD_TASK)[0]

    return params, jax.grad(loss)(params)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_clipped_step_uses_the_rescaled_gradient(optimizer):
    """Step with clip_norm = c equals the plain optimiser fed g·c/‖g‖ (computed here)."""
    net = dcd_net(jax.random.key(1), n=6)
    batch = DCD_TASK.all_trials()
    params, g = _grad(net, batch)
    flat, unravel = jax.flatten_util.ravel_pytree(g)
    norm = float(jnp.linalg.norm(flat))
    c = 0.25 * norm  # binding
    scaled = unravel(flat * (c / norm))
    plain = make_optimizer(optimizer, 0.1)
    want_updates, _ = plain.update(scaled, plain.init(params), params)
    want = jax.tree.map(lambda p, u: p + u, params, want_updates)
    state = init_state(net, optimizer=optimizer, lr=0.1, key=jax.random.key(0), clip_norm=c)
    state, _ = train_chunk(state, DCD_TASK, 1, batch=batch)
    for a, b in zip(jax.tree.leaves(state.params), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-7)


def test_a_loose_clip_changes_nothing_and_a_tight_one_slows_training():
    net = dcd_net(jax.random.key(2))
    kw = dict(lr=0.5, epochs=CHUNK, key=jax.random.key(3), chunk=CHUNK)
    plain = fit(net, DCD_TASK, **kw)
    loose = fit(net, DCD_TASK, clip_norm=1e6, **kw)
    tight = fit(net, DCD_TASK, clip_norm=1e-4, **kw)
    np.testing.assert_allclose(loose.metrics["loss"], plain.metrics["loss"], rtol=1e-6)
    moved = {
        k: float(np.abs(r.params.w - net.w).max()) for k, r in (("plain", plain), ("tight", tight))
    }
    assert moved["tight"] <= 0.5 * CHUNK * 1e-4 * 1.01  # each step moves ≤ lr·c
    assert moved["plain"] > 10 * moved["tight"]


def test_clip_norm_works_in_a_grid_and_keeps_the_plain_sgd_kernel_out():
    """backend "auto" would take the rank-one DA kernel (plain SGD, no accuracy): not when clipped."""
    kw = dict(lrs=[0.5], seeds=[0, 1], epochs=CHUNK, chunk=CHUNK, backend="auto")
    plain = sweep(lambda key: da_net(key), DA_TASK, **kw)
    clipped = sweep(lambda key: da_net(key), DA_TASK, clip_norm=1e-3, **kw)
    assert np.all(np.isnan(plain.metrics["accuracy"]))  # the kernel ran
    assert np.all(np.isfinite(clipped.metrics["accuracy"]))  # the generic program ran
    assert np.all(np.isfinite(clipped.metrics["loss"]))


def test_bad_clip_norm_is_a_value_error():
    with pytest.raises(ValueError, match="clip_norm"):
        make_optimizer("sgd", 0.1, clip_norm=-1.0)
    with pytest.raises(ValueError, match="clip_norm"):
        make_optimizer("sgd", 0.1, clipnorm=1.0)  # the allowed names are listed
