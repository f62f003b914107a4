"""Readouts (Eqs. 36, 38/48, 40, latent) against numpy formulas."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.networks import (
    FixedConfidenceReadout,
    LatentReadout,
    LinearReadout,
    ThresholdReadout,
    fix_confidence,
)

RNG = np.random.default_rng(0)
R = RNG.normal(size=5)
KAPPA = RNG.normal(size=2)
W_OUT, B_OUT = RNG.normal(size=(3, 5)), RNG.normal(size=3)
W_LAT = RNG.normal(size=(3, 2))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_threshold_eq36():
    ro = ThresholdReadout(beta=jnp.asarray(10.0), theta=jnp.asarray(1.0), k=2)
    np.testing.assert_allclose(ro(None, jnp.asarray(KAPPA)), _sigmoid(10 * (KAPPA - 1)), rtol=1e-6)
    assert ro.n_out == 2


@pytest.mark.parametrize(("act", "phi"), [("sigmoid", _sigmoid), ("tanh", np.tanh)])
def test_linear_eq38(act, phi):
    ro = LinearReadout(jnp.asarray(W_OUT), jnp.asarray(B_OUT), act)
    np.testing.assert_allclose(ro(jnp.asarray(R), None), phi(W_OUT @ R + B_OUT), rtol=1e-5)


@pytest.mark.parametrize(("act", "phi"), [("sigmoid", _sigmoid), ("tanh", np.tanh)])
def test_latent_readout(act, phi):
    ro = LatentReadout(jnp.asarray(W_LAT), jnp.asarray(B_OUT), act)
    z = ro(jnp.asarray(R), jnp.asarray(KAPPA))
    np.testing.assert_allclose(z, phi(W_LAT @ KAPPA + B_OUT), rtol=1e-5)


def test_fixed_confidence_eq40_and_scale_invariance():
    c = 0.7
    ro = FixedConfidenceReadout(jnp.asarray(W_OUT), jnp.asarray(B_OUT), jnp.asarray(c), "tanh")
    l1 = np.abs(W_OUT).sum(axis=1)
    np.testing.assert_allclose(
        ro(jnp.asarray(R), None), np.tanh(c * (W_OUT @ R + B_OUT) / l1), rtol=1e-5
    )
    scaled = FixedConfidenceReadout(ro.w_out * 37.0, ro.b_out * 37.0, ro.c, "tanh")
    np.testing.assert_allclose(scaled(jnp.asarray(R), None), ro(jnp.asarray(R), None), rtol=1e-5)


def test_threshold_beta_gradient_is_finite_difference():
    """Learnable-β variant: d z/d β = σ'(β(κ-θ)) (κ-θ), checked against central differences."""
    with jax.enable_x64(True):
        kappa = jnp.asarray([1.3])

        def z(beta):
            return ThresholdReadout(beta=beta, theta=jnp.asarray(1.0))(None, kappa)[0]

        h, beta = 1e-6, jnp.asarray(2.0)
        fd = (z(beta + h) - z(beta - h)) / (2 * h)
        np.testing.assert_allclose(jax.grad(z)(beta), fd, rtol=1e-8)


def test_unknown_activation_names_field():
    with pytest.raises(ValueError, match="`activation`.*'sigmoid', 'tanh'"):
        LinearReadout(jnp.asarray(W_OUT), jnp.asarray(B_OUT), "relu")


def test_fix_confidence_keeps_weights_and_freezes_c():
    from ghostmech.networks import from_arrays, trainable_filter

    rng = np.random.default_rng(1)
    net = from_arrays(
        w=rng.normal(size=(5, 5)), w_in=np.ones((5, 1)), b=np.zeros(5), r0=np.zeros(5),
        w_out=W_OUT, b_out=B_OUT, activation="tanh", frozen=("r0",),
    )  # fmt: skip
    fixed = fix_confidence(net, 0.5)
    r = jnp.asarray(R)
    expected = np.tanh(0.5 * (W_OUT @ R + B_OUT) / np.abs(W_OUT).sum(axis=1))
    np.testing.assert_allclose(fixed.readout(r, None), expected, rtol=1e-5)
    assert fixed.frozen == ("r0", "readout.c") and not trainable_filter(fixed).readout.c
    with pytest.raises(ValueError, match="`net.readout`"):
        fix_confidence(fixed, 1.0)
