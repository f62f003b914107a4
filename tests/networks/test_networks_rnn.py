"""RateRNN Euler step (Eq. 47) against a hand-written numpy loop; read convention; noise."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float, jaxtyped

from ghostmech.networks import from_arrays, run_batch, trainable_filter

N, K, N_IN, STEPS, ALPHA = 6, 2, 2, 7, 0.3


def _numpy_loop(W, w_in, b, r0, u, xi, alpha, read):
    """r_{t+1} = (1-a) r_t + a tanh(W r_t + W_in u_t + b + xi_t); rates read before/after."""
    r, out = r0.copy(), []
    for t in range(u.shape[0]):
        r_next = (1 - alpha) * r + alpha * np.tanh(W @ r + w_in @ u[t] + b + xi[t])
        out.append(r_next if read == "after" else r)
        r = r_next
    return np.stack(out)


def _arrays(rng, rank):
    a = {
        "w_in": rng.normal(size=(N, N_IN)),
        "b": rng.normal(0, 0.3, size=N),
        "r0": rng.uniform(-0.5, 0.5, size=N),
        "w_out": rng.normal(size=(1, N)),
        "b_out": rng.normal(size=1),
    }
    if rank == "full":
        a["w"] = rng.normal(0, 1.5 / np.sqrt(N), size=(N, N))
    else:
        a["m"], a["nT"] = rng.normal(size=(N, rank)), rng.normal(size=(N, rank)) / np.sqrt(N)
    return a


@pytest.mark.parametrize("rank", [K, "full"])
@pytest.mark.parametrize("read", ["after", "before"])
def test_euler_matches_numpy_loop(rank, read):
    rng = np.random.default_rng(0)
    a = _arrays(rng, rank)
    with jax.enable_x64(True):
        net = from_arrays(**a, readout="linear", alpha=ALPHA, read=read)
        u = rng.normal(size=(STEPS, N_IN))
        rates, z = net(jnp.asarray(u))
        W = a["w"] if rank == "full" else a["m"] @ a["nT"].T
        ref = _numpy_loop(W, a["w_in"], a["b"], a["r0"], u, np.zeros((STEPS, N)), ALPHA, read)
        np.testing.assert_allclose(rates, ref, rtol=0, atol=1e-13)  # float64 round-off
        z_ref = 1 / (1 + np.exp(-(ref @ a["w_out"].T + a["b_out"])))
        np.testing.assert_allclose(z, z_ref, rtol=0, atol=1e-13)


def test_read_before_is_after_shifted_by_one_step():
    net = from_arrays(**_arrays(np.random.default_rng(1), K), alpha=ALPHA)
    u = jnp.asarray(np.random.default_rng(2).normal(size=(STEPS, N_IN)), dtype=jnp.float32)
    after, z_after = net(u)
    before, z_before = dataclasses.replace(net, read="before")(u)
    np.testing.assert_array_equal(before[0], net.r0)
    np.testing.assert_allclose(before[1:], after[:-1], rtol=0, atol=0)
    np.testing.assert_allclose(z_before[1:], z_after[:-1], rtol=0, atol=0)


def _noisy(scaling, std=0.05):
    a = _arrays(np.random.default_rng(5), K)
    return from_arrays(**a, readout="linear", alpha=ALPHA, noise_std=std, noise_scaling=scaling)


def test_noise_same_key_same_trajectory_and_matches_numpy():
    net = _noisy("paper")
    u = jnp.ones((STEPS, N_IN))
    r1, _ = net(u, key=jax.random.key(7))
    r2, _ = net(u, key=jax.random.key(7))
    r3, _ = net(u, key=jax.random.key(8))
    np.testing.assert_array_equal(r1, r2)
    assert float(jnp.max(jnp.abs(r1 - r3))) > 1e-4
    xi = np.asarray(net.noise(jax.random.key(7), STEPS))
    W = np.asarray(net.recurrent())
    ref = _numpy_loop(W, *map(np.asarray, (net.w_in, net.b, net.r0, u)), xi, ALPHA, "after")
    np.testing.assert_allclose(r1, ref, rtol=0, atol=1e-5)  # float32


@pytest.mark.parametrize(("scaling", "factor"), [("paper", 1.0), ("sde", 1 / np.sqrt(ALPHA))])
def test_noise_std_per_convention(scaling, factor):
    """One step from r0 = 0 with b = 0, u = 0: r_1 = α tanh(ξ) ≈ α ξ for small σ."""
    std, trials = 1e-3, 4000
    a = _arrays(np.random.default_rng(3), K)
    a["b"], a["r0"] = np.zeros(N), np.zeros(N)
    net = from_arrays(**a, alpha=ALPHA, noise_std=std, noise_scaling=scaling)
    rates, _ = run_batch(net, jnp.zeros((1, trials, N_IN)), key=jax.random.key(9))
    measured = float(jnp.std(rates[0] / ALPHA))
    # N*trials = 24,000 samples: relative s.e. of an s.d. estimate ≈ 1/sqrt(2*24000) ≈ 0.5%
    np.testing.assert_allclose(measured, std * factor, rtol=0.03)


def test_noise_std_is_data_vmappable():
    net = _noisy("paper", std=0.0)
    stds = jnp.array([0.0, 0.1])

    def run(s):
        return eqx.tree_at(lambda m: m.noise_std, net, s)(
            jnp.zeros((STEPS, N_IN)), key=jax.random.key(0)
        )[0]

    out = jax.vmap(run)(stds)
    np.testing.assert_allclose(out[0], net(jnp.zeros((STEPS, N_IN)))[0], atol=1e-6)
    assert float(jnp.max(jnp.abs(out[1] - out[0]))) > 1e-3


@jaxtyped(typechecker=None)
def _shapes(inputs: Array, rates: Array, z: Array) -> None:
    assert isinstance(inputs, Float[Array, "time batch n_in"])
    assert isinstance(rates, Float[Array, "time batch n"])
    assert isinstance(z, Float[Array, "time batch n_out"])


def test_run_batch_shapes_and_matches_single_trials():
    a = _arrays(np.random.default_rng(4), "full")
    a["w_out"], a["b_out"] = np.ones((2, N)), np.zeros(2)
    net = from_arrays(**a, alpha=ALPHA)
    inputs = jax.random.normal(jax.random.key(1), (STEPS, 3, N_IN))
    rates, z = run_batch(net, inputs)
    _shapes(inputs, rates, z)
    assert z.shape == (STEPS, 3, 2)
    np.testing.assert_allclose(rates[:, 1], net(inputs[:, 1])[0], atol=1e-6)


def test_trainable_filter_honours_frozen_paths():
    a = _arrays(np.random.default_rng(0), 1)
    del a["w_out"], a["b_out"]
    net = from_arrays(**a, readout="threshold", frozen=("r0", "readout.beta"))
    flt = trainable_filter(net)
    assert flt.m and flt.nT and flt.b and flt.w_in and flt.readout.theta
    assert not flt.r0 and not flt.readout.beta and not flt.noise_std
    params, static = eqx.partition(net, flt)
    assert params.r0 is None and params.m is not None
    assert eqx.tree_equal(eqx.combine(params, static), net)
    whole = trainable_filter(dataclasses.replace(net, frozen=("readout",)))
    assert not whole.readout.beta and not whole.readout.theta and whole.r0


def test_jitted_call_does_not_recompile():
    net = from_arrays(**_arrays(np.random.default_rng(0), K), alpha=ALPHA)
    f = eqx.filter_jit(lambda net, u: net(u))
    u = jnp.zeros((STEPS, N_IN))
    f(net, u)
    f(eqx.tree_at(lambda m: m.b, net, net.b + 1.0), u)
    assert f._cached._cache_size() == 1
