"""The rank-one DA grid kernel against a second implementation: full-state
simulation (W = m nᵀ, r ∈ ℝᴺ, no latent reduction) differentiated by JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation, DelayedCueDiscrimination
from ghostmech.training import kernels
from ghostmech.training.fit import fit
from ghostmech.training.kernels import WIDTH, applies, rank1_da_value_and_grad, train_rank1_da_chunk

HYPER = dict(beta=10.0, theta=1.0, alpha=0.5, delay=6, response=5)


def _full_state_loss(params, r0, *, beta, theta, alpha, delay, response):
    """Eq. 47 on the whole state, readout Eq. 36 read after each update."""
    m, n, b = params
    w = jnp.outer(m, n)

    def step(r, target):
        r = (1 - alpha) * r + alpha * jnp.tanh(w @ r + b)
        z = jax.nn.sigmoid(beta * (n @ r - theta))
        return r, (z - target) ** 2

    targets = jnp.concatenate([jnp.zeros(delay), jnp.ones(response)])
    _, sq = jax.lax.scan(step, r0, targets)
    return sq.sum() / delay


def _reference_sgd(m, n, b, lr, r0, epochs, hyper):
    """Per-network autodiff SGD; returns final params and the loss per epoch."""
    vg = jax.jit(jax.value_and_grad(lambda p: _full_state_loss(p, r0, **hyper)))
    params, losses = (m, n, b), []
    for _ in range(epochs):
        loss, grads = vg(params)
        losses.append(float(loss))
        params = tuple(p - lr * g for p, g in zip(params, grads, strict=True))
    return params, np.array(losses)


def _draw(key, nets, n, dtype):
    km, kn, kb = jax.random.split(key, 3)
    scale = 1 / np.sqrt(n)
    m = jax.random.normal(km, (nets, n), dtype) * scale + 0.3
    nn = jax.random.normal(kn, (nets, n), dtype) * scale + 0.3
    b = jax.random.normal(kb, (nets, n), dtype) * 0.1
    return m, nn, b


def test_gradient_matches_autodiff_float64():
    with jax.enable_x64(True):
        m, n, b = _draw(jax.random.key(0), 3, 7, jnp.float64)
        r0 = jax.random.normal(jax.random.key(1), (3, 7), jnp.float64) * 0.3
        loss, grads = rank1_da_value_and_grad(m, n, b, r0=r0, **HYPER)
        ref_vg = jax.jit(jax.value_and_grad(lambda p, r: _full_state_loss(p, r, **HYPER)))
        for i in range(3):
            ref_loss, ref_grads = ref_vg((m[i], n[i], b[i]), r0[i])
            # float64 round-off over ~10 steps: agreement to ~1e-12 relative
            np.testing.assert_allclose(loss[i], ref_loss, rtol=1e-11)
            for g, rg in zip(grads, ref_grads, strict=True):
                np.testing.assert_allclose(g[i], rg, rtol=1e-9, atol=1e-12)


def test_training_matches_per_network_sgd_float64():
    with jax.enable_x64(True):
        m, n, b = _draw(jax.random.key(2), 3, 5, jnp.float64)
        lr = jnp.array([0.05, 0.5, 2.0])
        params, met = train_rank1_da_chunk(m, n, b, lr, epochs=12, r0=-0.3, **HYPER)
        r0 = jnp.full(5, -0.3)
        for i in range(3):
            ref, ref_loss = _reference_sgd(m[i], n[i], b[i], lr[i], r0, 12, HYPER)
            np.testing.assert_allclose(met["loss"][i], ref_loss, rtol=1e-10)
            for key, rp in zip("mnb", ref, strict=True):
                np.testing.assert_allclose(params[key][i], rp, rtol=1e-9, atol=1e-12)
        assert met["status"].tolist() == [0, 0, 0]
        assert met["nan_epoch"].tolist() == [-1, -1, -1]


def test_float32_training_tracks_float64_reference():
    m, n, b = _draw(jax.random.key(3), 3, 6, jnp.float32)
    lr = jnp.array([0.1, 1.0, 0.5], jnp.float32)
    params, met = train_rank1_da_chunk(m, n, b, lr, epochs=5, **HYPER)
    assert params["m"].dtype == jnp.float32
    with jax.enable_x64(True):
        for i in range(3):
            p64 = [jnp.asarray(a[i], jnp.float64) for a in (m, n, b)]
            ref, ref_loss = _reference_sgd(*p64, float(lr[i]), jnp.full(6, -0.3), 5, HYPER)
            # float32 eps ~1.2e-7, amplified by ~10 steps x 5 epochs of recursion
            np.testing.assert_allclose(met["loss"][i], ref_loss, rtol=2e-5)
            np.testing.assert_allclose(params["n"][i], ref[1], rtol=1e-4, atol=1e-6)


def test_nan_lr_is_isolated():
    m, n, b = _draw(jax.random.key(4), 3, 6, jnp.float32)
    lr = jnp.array([0.3, jnp.nan, 0.7], jnp.float32)
    params, met = train_rank1_da_chunk(m, n, b, lr, epochs=5, **HYPER)
    assert met["status"].tolist() == [0, 1, 0]
    assert met["nan_epoch"].tolist() == [-1, 0, -1]
    np.testing.assert_array_equal(params["m"][1], m[1])  # never updated
    assert np.isfinite(met["loss"][1, 0]) and np.isnan(met["loss"][1, 1:]).all()
    for i in (0, 2):  # each network alone (repeated to keep the compiled shape)
        rep = jnp.array([i, i, i])
        alone, met_alone = train_rank1_da_chunk(m[rep], n[rep], b[rep], lr[rep], epochs=5, **HYPER)
        np.testing.assert_allclose(params["n"][i], alone["n"][0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(met["loss"][i], met_alone["loss"][0], rtol=1e-6)


def test_two_chunks_equal_one_and_repeats_do_not_recompile():
    """A chunk of 10 = two chunks of 5 (the second from the first's parameters), bitwise;
    a repeated call does not recompile."""
    m, n, b = _draw(jax.random.key(5), 3, 6, jnp.float32)
    lr = jnp.array([0.2, 0.4, 0.8], jnp.float32)
    one, met_one = train_rank1_da_chunk(m, n, b, lr, epochs=10, **HYPER)
    half, met_a = train_rank1_da_chunk(m, n, b, lr, epochs=5, **HYPER)
    size = kernels._chunk._cache_size()
    two, met_b = train_rank1_da_chunk(half["m"], half["n"], half["b"], lr, epochs=5, **HYPER)
    assert kernels._chunk._cache_size() == size  # same program: no new compilation
    np.testing.assert_array_equal(
        np.concatenate([met_a["loss"], met_b["loss"]], 1), met_one["loss"]
    )
    for k in "mnb":
        np.testing.assert_array_equal(two[k], one[k])


def _row(params, met, i):
    return [np.asarray(params[k][i]) for k in "mnb"] + [met[k][i] for k in met]


def test_a_network_gets_the_same_bits_alone_in_any_group_at_any_position():
    """The kernel runs groups of exactly `WIDTH` networks (the last padded): network 0
    trains to the same bits alone, among 3, at position 40 of 45 (second group), and
    next to a diverging (NaN lr) neighbour; lrs up to far above η_c amplify any
    rounding difference over the 30 epochs."""
    m, n, b = _draw(jax.random.key(6), 45, 6, jnp.float32)
    lr = jnp.asarray(np.geomspace(0.05, 20.0, 45), jnp.float32)
    ref_p, ref_m = train_rank1_da_chunk(m[:1], n[:1], b[:1], lr[:1], epochs=30, **HYPER)
    assert WIDTH > 3 and 45 > WIDTH  # alone, a partial group, two groups
    for order in ([0, 1, 2], [*range(1, 41), 0, *range(41, 45)]):
        idx = jnp.asarray(order)
        at = order.index(0)
        p, met = train_rank1_da_chunk(m[idx], n[idx], b[idx], lr[idx], epochs=30, **HYPER)
        for x, y in zip(_row(p, met, at), _row(ref_p, ref_m, 0), strict=True):
            np.testing.assert_array_equal(x, y)
    nan_lr = lr.at[1].set(jnp.nan)
    p, met = train_rank1_da_chunk(m[:3], n[:3], b[:3], nan_lr[:3], epochs=30, **HYPER)
    assert met["status"].tolist() == [0, 1, 0]
    for x, y in zip(_row(p, met, 0), _row(ref_p, ref_m, 0), strict=True):
        np.testing.assert_array_equal(x, y)


def test_negative_control_one_ulp_in_a_network_changes_its_own_bits():
    """The comparison above can fail: one float32 ulp in network 0's m changes its bits
    (and leaves its neighbour's alone)."""
    m, n, b = _draw(jax.random.key(6), 3, 6, jnp.float32)
    lr = jnp.asarray([3.0, 1.0, 0.5], jnp.float32)
    ref_p, ref_m = train_rank1_da_chunk(m, n, b, lr, epochs=30, **HYPER)
    nudged = m.at[0].set(jnp.nextafter(m[0], jnp.inf))
    p, met = train_rank1_da_chunk(nudged, n, b, lr, epochs=30, **HYPER)
    assert not np.array_equal(met["loss"][0], ref_m["loss"][0])
    np.testing.assert_array_equal(met["loss"][1], ref_m["loss"][1])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(epochs=0), "epochs"),
        (dict(epochs=2, alpha=-1.0), "alpha"),
        (dict(epochs=2, lr=1), "lr"),
    ],
)
def test_bad_input_names_argument(kwargs, name):
    m = jnp.zeros((2, 3))
    args = dict(lr=jnp.ones(2)) | kwargs
    with pytest.raises(ValueError, match=f"`{name}`"):
        train_rank1_da_chunk(m, m, m, args.pop("lr"), **args)


def _net(**overrides):
    return make_preset("fig6a_rank1", n=6, key=jax.random.key(0), **overrides)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, True),
        ({"frozen": ("r0", "readout")}, True),  # w_in trains, but its gradient is 0
        ({"read": "before"}, False),
        ({"rank": 2}, False),
        ({"noise_std": 0.01}, False),
        ({"frozen": ("r0", "w_in", "readout.theta")}, False),  # β trainable
        ({"frozen": ("r0", "w_in", "readout", "b")}, False),
    ],
)
def test_applies(overrides, expected):
    assert applies(_net(**overrides), DelayedActivation(4, 3)) is expected


def test_applies_rejects_other_optimizer_task_or_interventions():
    net, task = _net(), DelayedActivation(4, 3)
    assert not applies(net, task, optimizer="adam")
    assert not applies(net, task, interventions=(object(),))
    assert not applies(net, DelayedCueDiscrimination(input=2, delay=3, response=3))


def test_kernel_matches_generic_fit_on_preset_network():
    """Same numbers as `ghostmech.training.fit` when `applies` says so (float32)."""
    net, task = _net(), DelayedActivation(6, 5)
    assert applies(net, task)
    ref = fit(net, task, lr=0.5, epochs=6, key=jax.random.key(1))
    row = lambda a: jnp.asarray(a)[:, 0][None]  # noqa: E731
    params, met = train_rank1_da_chunk(
        row(net.m),
        row(net.nT),
        net.b[None],
        jnp.array([0.5]),
        epochs=6,
        beta=float(net.readout.beta),
        theta=float(net.readout.theta),
        alpha=net.alpha,
        r0=net.r0,
        delay=task.delay,
        response=task.response,
    )
    # float32: same maths, different summation order -> agreement to ~10 ulp
    np.testing.assert_allclose(met["loss"][0], ref.metrics["loss"], rtol=1e-5)
    np.testing.assert_allclose(met["grad_norm"][0], ref.metrics["grad_norm"], rtol=1e-4)
    np.testing.assert_allclose(params["n"][0], ref.params.nT[:, 0], rtol=1e-5, atol=1e-6)
