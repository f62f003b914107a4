"""`fit` and `train_chunk`: chunking, determinism, optimisers, checkpoints, frozen fields, bad input."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from training_cases import CHUNK, DA_TASK, DCD_TASK, da_net, dcd_net

import ghostmech.training.step as step_module
from ghostmech.training import (
    Freeze,
    checkpoint_epochs,
    fit,
    init_state,
    loss_and_metrics,
    make_optimizer,
    train_chunk,
)

BATCH = 4  # trials sampled per epoch


def _raw(x):
    return jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x


def _leaves_equal(a, b) -> bool:
    la = [_raw(x) for x in jax.tree.leaves(eqx.filter(a, eqx.is_array))]
    lb = [_raw(x) for x in jax.tree.leaves(eqx.filter(b, eqx.is_array))]
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))


def _noisy_state(optimizer="sgd", lr=0.05):
    net = dcd_net(jax.random.key(0), noise_std=0.1)
    return init_state(net, optimizer=optimizer, lr=lr, key=jax.random.key(1))


def test_chunks_of_3_and_7_equal_one_chunk_of_10_bitwise(monkeypatch):
    traces = []
    original = step_module.loss_and_metrics
    monkeypatch.setattr(
        step_module, "loss_and_metrics", lambda *a, **k: traces.append(1) or original(*a, **k)
    )
    state = _noisy_state()
    whole, m10 = train_chunk(state, DCD_TASK, 10, batch=BATCH)
    first = len(traces)
    part, m3 = train_chunk(state, DCD_TASK, 10, batch=BATCH, n_active=3)
    part, m7 = train_chunk(part, DCD_TASK, 10, batch=BATCH, n_active=7)
    other = eqx.tree_at(
        lambda s: s.opt_state,
        state,
        init_state(state.net, optimizer="sgd", lr=0.3, key=state.key).opt_state,
    )
    train_chunk(other, DCD_TASK, 10, batch=BATCH)
    # traced once; a new n_active or learning rate is data, not a new program
    assert first > 0 and len(traces) == first
    assert _leaves_equal(whole, part)
    for k in m10:
        np.testing.assert_array_equal(m10[k], np.concatenate([m3[k][:3], m7[k][:7]]))
        assert np.all(np.isnan(m3[k][3:]))  # slots past n_active are marked, not trained
    # another compiled program (chunks of 5 slots, as fit runs it): still bitwise equal
    res = fit(state.net, DCD_TASK, lr=0.05, epochs=10, key=state.key, batch=BATCH, chunk=CHUNK)
    assert _leaves_equal(res.params, whole.net)
    np.testing.assert_array_equal(res.metrics["loss"], m10["loss"])
    assert np.ptp(m10["loss"]) > 0  # it trained


def test_adam_matches_a_plain_optax_loop():
    """Second implementation: optax.adam (not injected) on jax.grad of the same loss."""
    lr, epochs = 0.02, CHUNK
    state = _noisy_state("adam", lr)
    res = fit(state.net, DCD_TASK, optimizer="adam", lr=lr, epochs=epochs, key=state.key,
              batch=BATCH, chunk=CHUNK)  # fmt: skip
    opt = optax.adam(lr)

    @eqx.filter_jit
    def step(params, opt_state, e):
        k_batch, k_noise = jax.random.split(jax.random.fold_in(state.key, e))
        batch = DCD_TASK.sample(key=k_batch, batch=BATCH)
        loss = lambda p: loss_and_metrics(eqx.combine(p, state.frozen, state.skeleton), batch,  # noqa: E731
                                          key=k_noise, task=DCD_TASK)[0]  # fmt: skip
        g = jax.grad(loss)(params)
        updates, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    p, o = state.params, opt.init(state.params)
    for e in range(epochs):
        p, o = step(p, o, jnp.asarray(e))  # data: one compile
    # same maths in two float32 programs: equal to rounding (~1e-7 relative per step)
    for a, b in zip(jax.tree.leaves(res.state.params), jax.tree.leaves(p), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not _leaves_equal(res.state.params, state.params)


def test_optimizers_carry_their_hyperparameters_as_data():
    assert set(make_optimizer("momentum", 0.1).init({"x": np.zeros(2)}).hyperparams) == {
        "learning_rate", "momentum"}  # fmt: skip
    hyper = make_optimizer("adam", 0.1).init({"x": np.zeros(2)}).hyperparams
    assert {"learning_rate", "b1", "b2", "eps"} <= set(hyper)


def test_checkpoints_equal_shorter_runs_and_frozen_fields_stay():
    net = da_net(jax.random.key(3))
    net = eqx.tree_at(lambda n: n.m, net, net.m * 15.0)
    kw = dict(lr=0.5, key=jax.random.key(4), chunk=CHUNK)
    res = fit(net, DA_TASK, epochs=12, checkpoints=[0, 7, 12], **kw)
    short = fit(net, DA_TASK, epochs=7, **kw)
    assert sorted(res.checkpoints) == [0, 7, 12]
    assert _leaves_equal(res.checkpoints[0], net)
    assert _leaves_equal(res.checkpoints[7], short.params)
    assert _leaves_equal(res.checkpoints[12], res.params)
    np.testing.assert_array_equal(res.metrics["loss"][:7], short.metrics["loss"])
    assert res.status == 0 and res.nan_epoch == -1
    for frozen in ("r0", "w_in", "noise_std"):
        np.testing.assert_array_equal(getattr(res.params, frozen), getattr(net, frozen))
    np.testing.assert_array_equal(res.params.readout.beta, net.readout.beta)
    assert not np.array_equal(res.params.m, net.m)


def test_checkpoint_specs():
    assert checkpoint_epochs([5, 0, 5], 10) == (0, 5)
    assert checkpoint_epochs({"every": 4}, 10) == (0, 4, 8, 10)
    assert checkpoint_epochs({"log": 3}, 100) == (0, 1, 10, 100)
    assert checkpoint_epochs(None, 10) == ()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1e-3}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"checkpoints": [0, 11]}, "checkpoints"),
        ({"checkpoints": {"every": 0}}, "checkpoints['every']"),
        ({"checkpoints": "log"}, "checkpoints"),
        ({"batch": "some"}, "batch"),
        ({"chunk": 0}, "chunk"),
        ({"interventions": [Freeze(11, ("m",))]}, "interventions[0].epoch"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    args = dict(optimizer="sgd", lr=0.1, epochs=10, key=jax.random.key(0)) | kwargs
    with pytest.raises(ValueError, match=rf"`{__import__('re').escape(name)}`"):
        fit(da_net(jax.random.key(0)), DA_TASK, **args)


def test_unknown_optimizer_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="'sgd', 'momentum', 'adam'"):
        make_optimizer("rmsprop")
