"""`sweep`: vmap and loop backends agree, loop equals `fit`, a diverging network stays alone."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from training_cases import CHUNK, DCD_TASK, dcd_net

from ghostmech.training import fit, sweep

GRID = dict(
    seeds=[0, 1], axes={"noise_std": [0.0, 0.1]}, epochs=10, batch=4, chunk=CHUNK, optimizer="adam"
)
ABSURD = 1e38  # Adam steps of ~1e38 overflow float32 within a few epochs


def _build(key, noise_std):
    return dcd_net(key, noise_std=noise_std)


@pytest.fixture(scope="module")
def grids():
    return {
        "vmap": sweep(_build, DCD_TASK, lrs=[0.01, 0.05], backend="vmap", **GRID),
        "loop": sweep(_build, DCD_TASK, lrs=[0.01, 0.05], backend="loop", **GRID),
        "absurd": sweep(
            _build, DCD_TASK, lrs=[0.01, ABSURD], backend="vmap", checkpoints={"every": 1}, **GRID
        ),
    }


def test_result_has_named_grid_axes(grids):
    res = grids["vmap"]
    assert res.dims == ("lr", "seed", "noise_std", "epoch")
    assert res.metrics["loss"].shape == (2, 2, 2, 10)
    assert res.params.w.shape == (2, 2, 2, 6, 6)
    np.testing.assert_array_equal(
        res.params.noise_std[:, :, 1], np.float32(0.1)
    )  # the axis reached the net
    assert res.status.shape == (2, 2, 2) and not res.status.any()


def test_vmap_and_loop_backends_agree(grids):
    # same maths, two float32 programs (batched vs single matrix products): rounding only
    for k in ("loss", "grad_norm"):
        np.testing.assert_allclose(
            grids["vmap"].metrics[k], grids["loop"].metrics[k], rtol=1e-5, atol=1e-7
        )
    for a, b in zip(
        jax.tree.leaves(grids["vmap"].params), jax.tree.leaves(grids["loop"].params), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.ptp(grids["vmap"].metrics["loss"]) > 0.01


def test_loop_backend_equals_fit_bitwise(grids):
    i_lr, i_seed, i_noise = 1, 1, 1
    k_build, k_train = jax.random.split(jax.random.key(GRID["seeds"][i_seed]))
    net = _build(k_build, GRID["axes"]["noise_std"][i_noise])
    res = fit(
        net, DCD_TASK, optimizer="adam", lr=0.05, epochs=10, key=k_train, batch=4, chunk=CHUNK
    )
    np.testing.assert_array_equal(
        grids["loop"].metrics["loss"][i_lr, i_seed, i_noise], res.metrics["loss"]
    )
    np.testing.assert_array_equal(grids["loop"].params.w[i_lr, i_seed, i_noise], res.params.w)


def test_a_diverging_network_does_not_touch_the_others(grids):
    sane, absurd = grids["vmap"], grids["absurd"]
    for k in ("loss", "grad_norm", "accuracy"):  # lr = 0.01 slice: bit-identical
        np.testing.assert_array_equal(absurd.metrics[k][0], sane.metrics[k][0])
    np.testing.assert_array_equal(absurd.params.w[0], sane.params.w[0])
    assert (absurd.status[1] == 1).all() and (absurd.status[0] == 0).all()
    for idx in np.ndindex(absurd.status.shape[1:]):
        e = int(absurd.nan_epoch[(1, *idx)])
        assert 0 <= e < GRID["epochs"]
        loss = absurd.metrics["loss"][(1, *idx)]
        assert np.isnan(loss[e + 1 :]).all() and np.isfinite(loss[:e]).all()
        # the diverged network kept its last finite parameters: those after e updates
        kept = absurd.checkpoints[e].w[(1, *idx)]
        np.testing.assert_array_equal(absurd.params.w[(1, *idx)], kept)
        assert np.isfinite(kept).all()


def test_grid_without_the_absurd_lr_is_bitwise_the_same_per_network_program(grids):
    """Loop backend: one program per network, so dropping a grid point changes nothing.

    (The vmap backend is bit-identical for grids of the same size, as above; a
    grid of another size is another XLA program, which may round differently in
    the last bit: measured 1 of 40 losses off by 1 ulp for 8 vs 4 networks.)
    """
    with_it = sweep(_build, DCD_TASK, lrs=[0.01, ABSURD], backend="loop", **GRID)
    without = sweep(_build, DCD_TASK, lrs=[0.01], backend="loop", **GRID)
    np.testing.assert_array_equal(with_it.metrics["loss"][:1], without.metrics["loss"])
    np.testing.assert_array_equal(with_it.params.w[:1], without.params.w)
    np.testing.assert_array_equal(with_it.status, grids["absurd"].status)
    np.testing.assert_array_equal(with_it.nan_epoch, grids["absurd"].nan_epoch)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"backend": "dask"}, "backend"),
        ({"lrs": [0.1, -1.0]}, "lrs[1]"),
        ({"axes": {"lr": [1.0]}}, "axes['lr']"),
    ],
)
def test_bad_sweep_input_names_the_argument(kwargs, name):
    args = dict(lrs=[0.1], seeds=[0], epochs=5) | kwargs
    with pytest.raises(ValueError, match=rf"`{__import__('re').escape(name)}"):
        sweep(_build, DCD_TASK, **args)


def test_two_processes_give_the_loop_result_bitwise(grids):
    res = sweep(_build, DCD_TASK, lrs=[0.01, 0.05], backend="loop", processes=2, **GRID)
    np.testing.assert_array_equal(res.metrics["loss"], grids["loop"].metrics["loss"])
    np.testing.assert_array_equal(res.params.w, grids["loop"].params.w)
