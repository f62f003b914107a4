"""Interventions change the right thing at the right epoch (and nothing before it)."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest
from training_cases import CHUNK, DA_TASK, da_net

from ghostmech.training import (
    FixConfidence,
    Freeze,
    SetHyper,
    SetLR,
    SetValue,
    Unfreeze,
    fit,
    sweep,
)


def _net(key=0, **overrides):
    net = da_net(jax.random.key(key), **overrides)
    return eqx.tree_at(lambda n: n.m, net, net.m * 15.0)  # gradients well above rounding


def _fit(net, epochs, **kw):
    return fit(net, DA_TASK, lr=0.5, epochs=epochs, key=jax.random.key(1), chunk=CHUNK, **kw)


def test_set_lr_scales_the_next_update():
    every = {"every": 1}
    base = _fit(_net(), 10, checkpoints=every)
    cut = _fit(_net(), 10, checkpoints=every, interventions=[SetLR(4, 0.05)])
    np.testing.assert_array_equal(cut.metrics["loss"][:5], base.metrics["loss"][:5])
    np.testing.assert_array_equal(cut.checkpoints[4].b, base.checkpoints[4].b)
    step_base = base.checkpoints[5].b - base.checkpoints[4].b
    step_cut = cut.checkpoints[5].b - cut.checkpoints[4].b
    # SGD: Δθ = −η ∇L at the same θ, so the step shrinks 10x; b starts at 0 and
    # |b| ~ 4|Δb| here, so float32 differences are good to ~1e-6 relative
    np.testing.assert_allclose(
        step_cut, step_base / 10, rtol=1e-4, atol=1e-4 * np.abs(step_cut).max()
    )
    assert np.abs(step_base).max() > 1e-4
    assert float(cut.state.hyper["learning_rate"]) == np.float32(0.05)


def test_set_value_changes_beta_from_that_epoch():
    res = _fit(_net(), 8, checkpoints=[4, 5, 8], interventions=[SetValue(4, "readout.beta", 2.0)])
    assert [float(res.checkpoints[e].readout.beta) for e in (4, 5, 8)] == [10.0, 2.0, 2.0]
    # the loss of epoch 4 is measured on the network with the new β
    changed = eqx.tree_at(lambda n: n.readout.beta, res.checkpoints[4], np.float32(2.0))
    np.testing.assert_array_equal(res.metrics["loss"][4], _fit(changed, CHUNK).metrics["loss"][0])
    assert res.metrics["loss"][4] != res.metrics["loss"][3]


def test_freeze_then_unfreeze_stops_only_that_field():
    ivs = [Freeze(3, ("nT",)), Unfreeze(6, ("nT",))]
    res = _fit(_net(), 9, checkpoints={"every": 1}, interventions=ivs)
    ck = res.checkpoints
    moved = [not np.array_equal(ck[e].nT, ck[e + 1].nT) for e in range(9)]
    assert moved == [True, True, True, False, False, False, True, True, True]
    assert all(not np.array_equal(ck[e].m, ck[e + 1].m) for e in range(9))


def test_fix_confidence_per_grid_point_freezes_a_learnt_beta():
    """Fig. 8B-style: β trains, then is set to a per-network value and frozen."""

    def build(key, beta_after):
        return _net(
            int(jax.random.randint(key, (), 0, 100)), frozen=("r0", "w_in", "readout.theta")
        )

    res = sweep(build, DA_TASK, lrs=[0.5], seeds=[0], epochs=8, axes={"beta_after": [1.0, 3.0]},
                interventions=[FixConfidence(4, value="beta_after")], checkpoints=[4, 8],
                chunk=CHUNK)  # fmt: skip
    beta4 = np.asarray(res.checkpoints[4].readout.beta)[0, 0]
    assert np.all(beta4 != 10.0)  # β was trained before the intervention
    np.testing.assert_array_equal(np.asarray(res.params.readout.beta)[0, 0], [1.0, 3.0])
    m4, m8 = res.checkpoints[4].m, res.params.m
    assert not np.array_equal(m4, m8)  # the rest keeps training


@pytest.mark.parametrize(
    "intervention, name",
    [
        (SetValue(0, "readout.gamma", 1.0), "path"),
        (SetHyper(0, "momentum", 0.5), "name"),
        (SetValue(0, "b", "beta_after"), "value"),
    ],
)
def test_bad_intervention_names_the_argument(intervention, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        _fit(_net(), CHUNK, interventions=[intervention])
