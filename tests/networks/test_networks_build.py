"""Initialisers (against scipy distributions), make_network, presets, npz round trip."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ghostmech.networks import (
    INITIALISERS,
    PRESETS,
    from_arrays,
    from_npz,
    make_network,
    make_preset,
    to_npz,
)
from ghostmech.networks.initialisers import initialise

SHAPE, N, FAN_IN = (200, 50), 100, 2
XAVIER = math.sqrt(6 / 250)

# spec -> the scipy distribution the draws must follow (for SHAPE, N, FAN_IN)
_EXPECTED = [
    ("normal_inv_n", stats.norm(0, 1 / math.sqrt(N))),
    ({"name": "normal", "std": 0.1}, stats.norm(0, 0.1)),
    ({"name": "uniform", "low": -1.0, "high": 1.0}, stats.uniform(-1, 2)),
    ("uniform_inv_sqrt_fan", stats.uniform(-1 / math.sqrt(FAN_IN), 2 / math.sqrt(FAN_IN))),
    ("xavier_uniform", stats.uniform(-XAVIER, 2 * XAVIER)),
    ("xavier_normal", stats.norm(0, math.sqrt(2 / 250))),
]


@pytest.mark.parametrize(("spec", "dist"), _EXPECTED, ids=[str(e[0]) for e in _EXPECTED])
def test_initialiser_distribution(spec, dist):
    x = np.asarray(initialise("f", spec, key=jax.random.key(0), shape=SHAPE, n=N, fan_in=FAN_IN))
    # 10,000 draws, fixed key: a wrong scale (even by 5%) gives p << 1e-3
    assert stats.kstest(x.ravel(), dist.cdf).pvalue > 1e-3


def test_tanh_normal_and_constants():
    kw = {"key": jax.random.key(1), "shape": SHAPE, "n": N, "fan_in": N}
    x = np.asarray(initialise("r0", {"name": "tanh_normal", "std": 0.3}, **kw), dtype=np.float64)
    assert stats.kstest(np.arctanh(x).ravel(), stats.norm(0, 0.3).cdf).pvalue > 1e-3
    const = initialise("r0", {"name": "constant", "value": -0.3}, **kw)
    np.testing.assert_array_equal(const, np.full(SHAPE, -0.3, np.float32))
    np.testing.assert_array_equal(initialise("b", "zeros", **kw), np.zeros(SHAPE))


def test_registry_covers_spec_section5():
    assert set(INITIALISERS) >= {
        "zeros",
        "constant",
        "normal",
        "normal_inv_n",
        "uniform",
        "xavier_uniform",
        "xavier_normal",
        "tanh_normal",
    }


def test_make_network_draws_match_initialise_and_overrides_are_local():
    key = jax.random.key(0)
    a = make_network(n=8, rank=2, key=key)
    b = make_network(n=8, rank=2, init={"b": {"name": "normal", "std": 0.1}}, key=key)
    np.testing.assert_array_equal(a.m, b.m)
    assert not np.array_equal(a.b, b.b)
    # field "nT" uses the 2nd of 8 split keys (FIELDS order) and a prefix of its stream
    k_nT = jax.random.split(key, 8)[1]
    ref = initialise("nT", "normal_inv_n", key=k_nT, shape=(8, 2), n=8, fan_in=8)
    np.testing.assert_allclose(a.nT, ref, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_structure(name):
    """Shapes/static settings of each preset without compiling (jax.eval_shape)."""
    preset = PRESETS[name]
    net = jax.eval_shape(lambda k: make_preset(name, key=k), jax.random.key(0))
    assert net.rank == (None if preset.rank == "full" else preset.rank)
    assert (net.read, net.alpha, net.frozen) == (preset.read, preset.alpha, preset.frozen)
    assert net.b.shape == (preset.n,)


def test_fig3a_matches_spec():
    net = make_preset("fig3a", key=jax.random.key(0))
    np.testing.assert_array_equal(net.r0, np.full(100, -0.3, np.float32))
    assert float(net.readout.beta) == 10.0 and float(net.readout.theta) == 1.0
    assert (net.read, net.alpha, net.rank, net.noise_std) == ("after", 0.5, 1, 0.0)
    assert stats.kstest(np.asarray(net.m).ravel(), stats.norm(0, 0.1).cdf).pvalue > 1e-3


def _arrays(kind, rng, n=12):
    a = {"w_in": rng.normal(size=(n, 1)), "b": rng.normal(size=n), "r0": rng.normal(size=n)}
    if kind == "threshold":
        return {**a, "m": rng.normal(size=(n, 1)), "nT": rng.normal(size=(n, 1)), "beta": 3.0}
    if kind == "latent":
        a.update(m=rng.normal(size=(n, 2)), nT=rng.normal(size=(n, 2)) / n)
        return {**a, "w_out": rng.normal(size=(1, 2)), "b_out": rng.normal(size=1)}
    return {
        **a,
        "w": rng.normal(size=(n, n)) / n,
        "w_out": rng.normal(size=(1, n)),
        "b_out": [0.1],
        "c": 0.5,
    }


@pytest.mark.parametrize("kind", ["threshold", "latent", "fixed_confidence"])
def test_npz_round_trip_identical_trajectories(kind, tmp_path):
    net = from_arrays(
        **_arrays(kind, np.random.default_rng(0)),
        readout=kind,
        noise_std=0.1,
        noise_scaling="sde",
        read="before",
        frozen=("r0",),
    )
    back = from_npz(to_npz(net, tmp_path / "net.npz"))
    u = jax.random.normal(jax.random.key(5), (9, 1))
    key = jax.random.key(6)
    for x, y in zip(net(u, key=key), back(u, key=key), strict=True):
        np.testing.assert_array_equal(x, y)
    assert (back.frozen, back.read, back.noise_scaling) == (("r0",), "before", "sde")
    assert type(back.readout) is type(net.readout)


def test_from_npz_rejects_foreign_file(tmp_path):
    np.savez(tmp_path / "x.npz", w=np.zeros(3))
    with pytest.raises(ValueError, match="`path`"):
        from_npz(tmp_path / "x.npz")


def test_float32_default_and_x64_on_request():
    rng = np.random.default_rng(0)
    assert from_arrays(**_arrays("latent", rng), readout="latent").m.dtype == jnp.float32
    with jax.enable_x64(True):
        assert from_arrays(**_arrays("latent", rng), readout="latent").m.dtype == jnp.float64
