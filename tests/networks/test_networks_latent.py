"""The latent reduction κ = Nᵀ r is exact (float64, 1e-12) for K = 1, 2 with inputs and noise."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.networks import from_arrays, latent_flow, latent_map, latent_trajectory

N, STEPS, N_IN = 30, 25, 2


def _net(k, read="after"):
    rng = np.random.default_rng(k)
    return from_arrays(
        m=1.5 * rng.normal(size=(N, k)),
        nT=rng.normal(size=(N, k)) / np.sqrt(N),
        w_in=rng.normal(size=(N, N_IN)),
        b=0.3 * rng.normal(size=N),
        r0=np.tanh(rng.normal(size=N)),
        w_out=rng.normal(size=(1, N)),
        b_out=np.zeros(1),
        noise_std=0.05,
        read=read,
    )


@pytest.mark.parametrize(("k", "read"), [(1, "after"), (2, "before")])
def test_latent_trajectory_exact(k, read):
    with jax.enable_x64(True):
        net = _net(k, read)
        assert net.b.dtype == jnp.float64
        u = jnp.asarray(np.random.default_rng(10).normal(size=(STEPS, N_IN)))
        key = jax.random.key(11)
        rates, _ = net(u, key=key)
        kappa = latent_trajectory(net, u, key=key)
        # r0 is NOT in span(m): the reduction must hold anyway
        m, r0 = np.asarray(net.m), np.asarray(net.r0)
        assert np.linalg.norm(r0 - m @ np.linalg.lstsq(m, r0, rcond=None)[0]) > 0.1
        np.testing.assert_allclose(
            kappa, np.asarray(rates) @ np.asarray(net.nT), rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("k", [1, 2])
def test_latent_flow_is_projected_vector_field(k):
    """Nᵀ(−r + tanh(W r + W_in u + b)) depends on r only through κ = Nᵀ r and equals flow(κ)."""
    with jax.enable_x64(True):
        net = _net(k)
        u = np.array([0.4, -1.0])
        flow, step = latent_flow(net, jnp.asarray(u)), latent_map(net, jnp.asarray(u))
        W, nT = np.asarray(net.recurrent()), np.asarray(net.nT)
        w_in, b = np.asarray(net.w_in), np.asarray(net.b)
        for seed in range(3):
            r = np.random.default_rng(seed).normal(size=N)
            field = -r + np.tanh(W @ r + w_in @ u + b)
            kappa = jnp.asarray(nT.T @ r)
            np.testing.assert_allclose(flow(kappa), nT.T @ field, rtol=0, atol=1e-12)
            np.testing.assert_allclose(
                step(kappa), nT.T @ (r + net.alpha * field), rtol=0, atol=1e-12
            )


def test_latent_flow_without_input_and_full_rank_rejected():
    with jax.enable_x64(True):
        net = _net(1)
        kappa = np.array([0.2])
        m, nT, b = (np.asarray(x) for x in (net.m, net.nT, net.b))
        expected = -kappa + nT.T @ np.tanh(m @ kappa + b)
        np.testing.assert_allclose(
            latent_flow(net)(jnp.asarray(kappa)), expected, rtol=0, atol=1e-14
        )
    rng = np.random.default_rng(0)
    full = from_arrays(
        w=rng.normal(size=(4, 4)), w_in=np.ones((4, 1)), b=np.zeros(4), r0=np.zeros(4),
        w_out=np.ones((1, 4)), b_out=np.zeros(1),
    )  # fmt: skip
    with pytest.raises(ValueError, match="`net`"):
        latent_flow(full)
