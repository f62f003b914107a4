"""The fast paths of training compute what the generic path computes.

* σ = 0 everywhere: no normals are drawn, and the numbers equal the run that
  draws (and multiplies by 0) the noise; σ ≠ 0: the draws are the documented
  ones (epoch key split, one key per trial), checked against `run_batch`; the
  batch-major noisy forward equals the network run trial by trial on them.
* ``record_every = k`` equals the every-epoch metrics subsampled at 0, k, 2k ...
  whatever the chunking, for `fit`, `sweep` and `train_chunk`.
* ``sweep(backend="auto")`` is the rank-one DA kernel where it applies (checked
  against the vmapped generic program) and ``"vmap"`` elsewhere.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from training_cases import CHUNK, DA_TASK, DCD_TASK, da_net, dcd_net

from ghostmech.networks import run_batch
from ghostmech.training import fit, forward, init_state, sweep
from ghostmech.training.losses import batch_noise
from ghostmech.training.step import (
    _run_chunk_jit,
    has_noise,
    recorded_slots,
    run_chunk,
    train_chunk,
)

BATCH = DCD_TASK.repeat_trials(2)


def _state(noise_std, seed=0):
    net = dcd_net(jax.random.key(seed), noise_std=noise_std)
    return init_state(net, optimizer="sgd", lr=0.05, key=jax.random.key(seed + 1))


def _uses(fn, *args, prim="random_bits") -> bool:
    return prim in str(jax.make_jaxpr(fn)(*args))


def test_has_noise_reads_concrete_sigma_and_assumes_noise_when_traced():
    assert not has_noise(_state(0.0)) and has_noise(_state(0.1))
    grid = jax.tree.map(lambda a, b: jnp.stack([a, b]) if eqx.is_array(a) else a,
                        _state(0.0), _state(0.1))  # fmt: skip
    assert has_noise(grid)
    seen = []
    jax.eval_shape(lambda s: seen.append(has_noise(s)) or s.epoch, _state(0.0))
    assert seen == [True]


@pytest.mark.parametrize(
    "make",
    [
        lambda k: dcd_net(k),  # full rank, read before, tanh readout
        # rank 1, read after, threshold readout on κ: the kernel test below
        lambda k: dcd_net(k, rank=2, readout="latent", read="after", readout_kwargs={}),
    ],
)
def test_batch_major_forward_equals_the_network_run_trial_by_trial(make):
    net = make(jax.random.key(4))
    inputs = jax.random.normal(jax.random.key(5), (7, 3, net.n_in))
    rates, z = forward(net, inputs, key=None)
    want_rates, want_z = run_batch(net, inputs)  # `RateRNN.__call__` vmapped over trials
    np.testing.assert_allclose(rates, want_rates, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z, want_z, rtol=1e-5, atol=1e-6)
    assert np.ptp(np.asarray(rates)) > 1e-2


def test_noise_free_chunk_draws_nothing_and_matches_the_drawing_program():
    state, n = _state(0.0), jnp.int32(CHUNK)
    run = lambda s, noisy: run_chunk(s, DCD_TASK, BATCH, CHUNK, n, noisy)  # noqa: E731
    assert _uses(lambda k: jax.random.normal(k, (2,)), jax.random.key(0))  # the name is right
    assert not _uses(lambda s: run(s, False), state)
    fast, m_fast = train_chunk(state, DCD_TASK, CHUNK, batch=BATCH)
    slow, m_slow = _run_chunk_jit(state, DCD_TASK, BATCH, CHUNK, n, True, 1)  # ξ = 0·normal
    for k in m_fast:
        np.testing.assert_allclose(m_fast[k], m_slow[k], rtol=1e-6, atol=0)
    np.testing.assert_allclose(fast.params.w, slow.params.w, rtol=1e-6, atol=1e-7)


def test_noisy_loss_uses_the_documented_draws():
    state = _state(0.3)
    _, met = train_chunk(state, DCD_TASK, CHUNK, batch=BATCH)
    _, k_noise = jax.random.split(jax.random.fold_in(state.key, 0))
    _, z = run_batch(state.net, BATCH.inputs, key=k_noise)
    _, z0 = run_batch(state.net, BATCH.inputs)
    want, quiet = DCD_TASK.loss(z, BATCH), DCD_TASK.loss(z0, BATCH)
    np.testing.assert_allclose(met["loss"][0], want, rtol=1e-6)
    assert abs(float(want - quiet)) > 1e-4  # the noise did reach the loss


def test_noisy_forward_full_rank_equals_the_trial_by_trial_network_with_the_same_noise():
    net = dcd_net(jax.random.key(3), noise_std=0.2, n=5)
    inputs = jax.random.normal(jax.random.key(4), (9, 6, net.n_in))
    key = jax.random.key(5)
    rates, z = forward(net, inputs, key=key)
    xi = batch_noise(net, key, (9, 6))
    keys = jax.random.split(key, 6)
    for b in range(6):
        np.testing.assert_array_equal(xi[:, b], net.noise(keys[b], 9))  # run_batch's draws
        want = net.states(inputs[:, b], xi[:, b])
        np.testing.assert_allclose(rates[:, b], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(z[:, b], net.output(want), rtol=1e-5, atol=1e-6)
    quiet, _ = forward(net, inputs, key=None)
    assert np.max(np.abs(np.asarray(rates - quiet))) > 1e-2  # negative control: noise acts


@pytest.mark.parametrize("scaling, factor", [("paper", 1.0), ("sde", 1 / np.sqrt(0.5))])
def test_batch_noise_has_the_statistics_of_eq47(scaling, factor):
    """ξ ~ N(0, s²) i.i.d. (s = σ, or σ/√α for "sde"; α = 0.5): mean, s.d. and the
    correlation between trials, steps and neurons within 5 standard errors."""
    net = dcd_net(jax.random.key(0), noise_std=0.1, n=50, noise_scaling=scaling, alpha=0.5)
    xi = np.asarray(batch_noise(net, jax.random.key(1), (40, 100)), np.float64)  # 200k draws
    s, m = 0.1 * factor, xi.size
    assert abs(xi.mean()) < 5 * s / np.sqrt(m)
    assert abs(xi.std() / s - 1) < 5 / np.sqrt(2 * m)
    for a, b in ((xi[:, :-1], xi[:, 1:]), (xi[:-1], xi[1:]), (xi[..., :-1], xi[..., 1:])):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(a.size)
    assert abs(xi.std() / (2 * s) - 1) > 5 / np.sqrt(2 * m)  # the same check rejects 2s


def test_recorded_slots_brute_force():
    for start in range(7):
        for n in range(9):
            for k in (1, 2, 3, 4):
                offset, count = recorded_slots(start, n, k)
                want = [e for e in range(start, start + n) if e % k == 0]
                assert [start + offset + j * k for j in range(count)] == want


def test_record_every_subsamples_fit():
    net, key = dcd_net(jax.random.key(0), noise_std=0.3), jax.random.key(1)
    kw = dict(lr=0.05, epochs=11, key=key, batch=BATCH, chunk=CHUNK, checkpoints=[4])
    full = fit(net, DCD_TASK, **kw)
    sub = fit(net, DCD_TASK, record_every=2, **kw)  # chunks 0-3 | 4-8 | 9-10: offsets 0, 0, 1
    assert sub.record_every == 2 and sub.metrics["loss"].shape == (6,)
    for k in full.metrics:
        np.testing.assert_array_equal(sub.metrics[k], full.metrics[k][::2])
    np.testing.assert_array_equal(sub.params.w, full.params.w)
    with pytest.raises(ValueError, match="record_every"):
        fit(net, DCD_TASK, record_every=0, **kw)


def _da_build(key):
    return da_net(key)


DA_GRID = dict(lrs=[0.5, 5.0], seeds=[0, 1], epochs=7, chunk=CHUNK, checkpoints=[0, 3])


@pytest.fixture(scope="module")
def da_grids():
    return {b: sweep(_da_build, DA_TASK, backend=b, **DA_GRID) for b in ("auto", "kernel", "vmap")}


def test_auto_sweep_is_the_kernel_on_rank1_da(da_grids):
    auto, kern, vmap = da_grids["auto"], da_grids["kernel"], da_grids["vmap"]
    for k in ("loss", "grad_norm"):
        np.testing.assert_array_equal(auto.metrics[k], kern.metrics[k])
        np.testing.assert_allclose(kern.metrics[k], vmap.metrics[k], rtol=1e-4)
    assert np.isnan(auto.metrics["accuracy"]).all()  # the kernel reports none
    for name in ("m", "nT", "b"):
        a, v = getattr(auto.params, name), getattr(vmap.params, name)
        np.testing.assert_array_equal(a, getattr(kern.params, name))
        p0 = getattr(vmap.checkpoints[0], name)
        np.testing.assert_array_equal(getattr(auto.checkpoints[0], name), p0)
        assert np.abs(a - p0).max() > 1e-4  # the networks moved: compare the moves
        np.testing.assert_allclose(a - p0, v - p0, rtol=2e-3, atol=1e-7)
        moved = getattr(auto.checkpoints[3], name) - p0
        np.testing.assert_allclose(moved, getattr(vmap.checkpoints[3], name) - p0, rtol=2e-3)


def test_auto_sweep_record_every_on_the_kernel(da_grids):
    sub = sweep(_da_build, DA_TASK, backend="auto", record_every=2, **DA_GRID)
    np.testing.assert_array_equal(sub.metrics["loss"], da_grids["kernel"].metrics["loss"][..., ::2])


def test_auto_sweep_falls_back_to_vmap_and_kernel_refuses():
    kw = dict(lrs=[0.05], seeds=[0, 1], epochs=6, batch=BATCH, chunk=CHUNK, record_every=2)
    build = lambda key: dcd_net(key)  # noqa: E731
    auto = sweep(build, DCD_TASK, backend="auto", **kw)
    vmap = sweep(build, DCD_TASK, backend="vmap", **kw)
    for k in auto.metrics:
        np.testing.assert_array_equal(auto.metrics[k], vmap.metrics[k])
    np.testing.assert_array_equal(auto.params.w, vmap.params.w)
    assert auto.metrics["loss"].shape == (1, 2, 3) and np.isfinite(auto.metrics["accuracy"]).all()
    with pytest.raises(ValueError, match="backend"):
        sweep(build, DCD_TASK, backend="kernel", **kw)
