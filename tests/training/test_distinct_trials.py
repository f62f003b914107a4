"""Identical trials computed once (`ghostmech.training.distinct_trials`) against the full batch."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.flatten_util
import numpy as np
import pytest
from training_cases import CHUNK, DA_TASK, DCD_TASK, da_net, dcd_net

from ghostmech.tasks import DelayedCueDiscrimination, DelayedMatchToSample
from ghostmech.training import fit, loss_and_metrics, sweep
from ghostmech.training.distinct_trials import Deduped, SampledTypes, distinct_trials, select
from ghostmech.training.fit import resolve_batch

DMTS_TASK = DelayedMatchToSample(input=2, delay=2, response=2)
CASES = {"dcd": (DCD_TASK, dcd_net), "dmts": (DMTS_TASK, dcd_net), "da": (DA_TASK, da_net)}


def _value_and_grad(net, task, batch):
    """(loss, accuracy, flat gradient) of ``net`` on ``batch``, no noise (σ = 0)."""
    (loss, aux), grads = _objective_and_grad(net, task, batch)
    return float(loss), float(aux["accuracy"]), jax.flatten_util.ravel_pytree(grads)[0]


@eqx.filter_jit
@eqx.filter_value_and_grad(has_aux=True)
def _objective_and_grad(net, task, batch):
    return loss_and_metrics(net, batch, key=None, task=task)


def _non_trivial(net, task):
    """Scale the recurrent weights so that outputs differ between trial types."""
    if task is DA_TASK:
        return eqx.tree_at(lambda n: n.m, net, net.m * 20.0)
    return eqx.tree_at(lambda n: n.w_in, net, net.w_in * 3.0)


@pytest.mark.parametrize("mode", ["fixed", "sampled"])
@pytest.mark.parametrize("name", list(CASES))
def test_compressed_batch_has_the_loss_accuracy_and_gradient_of_the_full_one(name, mode):
    task, make = CASES[name]
    with jax.enable_x64(True):
        net = _non_trivial(make(jax.random.key(3)), task)
        key = jax.random.key(7)
        full = task.sample(key=key, batch=23)  # unequal counts of the trial types
        if mode == "fixed":
            small = distinct_trials(full)
        else:
            small = SampledTypes(task.all_trials(), 23).draw(task, key)
        assert small.n_trials == task.n_types
        want, got = _value_and_grad(net, task, full), _value_and_grad(net, task, small)
        assert 0.01 < want[0] and np.linalg.norm(want[2]) > 1e-3  # a non-trivial case
        np.testing.assert_allclose(got[:2], want[:2], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-12, atol=1e-14)


def test_distinct_trials_counts_each_trial_by_its_multiplicity():
    batch = DMTS_TASK.sample(key=jax.random.key(0), batch=30)
    small = distinct_trials(batch)
    # brute force: count each distinct input column among the 30
    cols = [tuple(np.asarray(batch.inputs[:, b, 0])) for b in range(30)]
    counts = [cols.count(tuple(np.asarray(small.inputs[:, d, 0]))) for d in range(small.n_trials)]
    w = np.asarray(small.mask)[0, :, 0]
    np.testing.assert_allclose(w, np.asarray(counts) * small.n_trials / 30, rtol=1e-6)
    assert small.n_trials == len(set(cols))


# shapes and chunk shared with test_training_{fit,losses,perf}: compiled programs are reused
@pytest.mark.parametrize("batch", ["repeat", 4])
def test_fit_with_and_without_dedupe_gives_the_same_curves(batch):
    data = DCD_TASK.repeat_trials(2) if batch == "repeat" else batch
    net = _non_trivial(dcd_net(jax.random.key(4)), DCD_TASK)
    kw = dict(lr=0.5, epochs=CHUNK, key=jax.random.key(5), batch=data, chunk=CHUNK)
    on, off = fit(net, DCD_TASK, **kw), fit(net, DCD_TASK, dedupe_trials=False, **kw)
    assert isinstance(resolve_batch(DCD_TASK, data), Deduped | SampledTypes)
    for k in ("loss", "grad_norm", "accuracy"):
        np.testing.assert_allclose(on.metrics[k], off.metrics[k], rtol=2e-5, atol=1e-6)
    assert np.ptp(on.metrics["loss"]) > 1e-3  # training moved the loss


def test_noisy_training_is_bitwise_unchanged():
    data = DCD_TASK.repeat_trials(2)
    net = dcd_net(jax.random.key(4), noise_std=0.1)
    kw = dict(lr=0.5, epochs=CHUNK, key=jax.random.key(5), batch=data, chunk=CHUNK)
    on, off = fit(net, DCD_TASK, **kw), fit(net, DCD_TASK, dedupe_trials=False, **kw)
    for k in ("loss", "grad_norm", "accuracy"):
        np.testing.assert_array_equal(on.metrics[k], off.metrics[k])
    np.testing.assert_array_equal(on.params.w, off.params.w)
    # a sampled batch: the noisy program samples the int batch, as without compression
    assert select(resolve_batch(DCD_TASK, 12), noisy=True) == 12


class _NotWeighted(DelayedCueDiscrimination):
    mask_weights = False  # e.g. a loss that is not a mask-weighted mean


def test_no_compression_without_duplicates_or_mask_weights():
    assert isinstance(resolve_batch(DCD_TASK, "all"), type(DCD_TASK.all_trials()))
    assert resolve_batch(DCD_TASK, 2) == 2  # no fewer types than trials
    task = _NotWeighted(input=2, delay=3, response=3)
    assert resolve_batch(task, 50) == 50
    assert not isinstance(resolve_batch(task, task.repeat_trials(4)), Deduped)
    assert not isinstance(resolve_batch(DCD_TASK, 50, dedupe_trials=False), SampledTypes)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_bad_dedupe_option_is_a_value_error(bad):
    net = dcd_net(jax.random.key(0))
    with pytest.raises(ValueError, match="dedupe_trials"):
        fit(net, DCD_TASK, lr=0.1, epochs=1, key=jax.random.key(0), dedupe_trials=bad)


def test_sweep_with_and_without_dedupe_gives_the_same_curves():
    def build(key):
        return dcd_net(key)

    kw = dict(lrs=[0.1, 0.5], seeds=[0], epochs=CHUNK, batch=DCD_TASK.repeat_trials(3))
    on = sweep(build, DCD_TASK, chunk=CHUNK, **kw)
    off = sweep(build, DCD_TASK, chunk=CHUNK, dedupe_trials=False, **kw)
    for k in ("loss", "grad_norm"):
        np.testing.assert_allclose(on.metrics[k], off.metrics[k], rtol=2e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dedupe_trials"):
        sweep(build, DCD_TASK, chunk=CHUNK, dedupe_trials="yes", **kw)
