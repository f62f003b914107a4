"""`drive` retiring networks: each network's numbers are those of training it alone.

A run of 40 networks (5 lrs, from far below to far above η_c, × 8 seeds: more
than one kernel group of 32) where a `Retire` takes out the networks whose loss
fell below ½ or that were trapped (‖∇L‖ < 1e-6) in a chunk, and per-network budgets (20-35
epochs, not multiples of the chunk) end the others. For every network, its
metrics up to the epoch it left must be the bits of training it alone through
`drive` for exactly that many epochs (its neighbours active, retired or absent
never matter: fixed compiled widths), its metrics after it left NaN and its
final parameters those of the lone run. Negative control: one epoch more alone
changes the parameters, so the comparison sees a single extra update.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from training_cases import DA_TASK, da_net
from training_cases import same_bits as _same

from ghostmech.training import init_state
from ghostmech.training.engine import MemorySink, drive, make_executor, make_schedule, stack, take

LRS = [0.05, 0.3, 1.0, 3.0, 10.0]
SEEDS = range(8)
EPOCHS, CHUNK = 40, 7
BUDGETS = np.asarray([20 + 5 * (g % 4) for g in range(len(LRS) * len(SEEDS))])


def _states():
    nets, lrs, keys = [], [], []
    for lr in LRS:
        for seed in SEEDS:
            k_build, k_train = jax.random.split(jax.random.key(seed))
            nets.append(da_net(k_build))
            lrs.append(lr)
            keys.append(k_train)
    init = eqx.filter_vmap(lambda net, lr, k: init_state(net, optimizer="sgd", lr=lr, key=k))
    return init(stack(nets), jnp.asarray(lrs, jnp.float32), jnp.stack(keys))


class _Decided:
    """Retire the active networks that, during the chunk, got a loss below ½ or a gradient
    norm below 1e-6 (the no-learning zone, where lrs above η_c end; the measurement's rule)."""

    def __init__(self):
        self.calls = []

    def retire(self, start, stop, metrics, active):
        self.calls.append((start, stop, int(active.sum())))
        loss = metrics["loss"]
        assert np.isnan(loss[~active]).all()  # retired networks: NaN rows
        with np.errstate(invalid="ignore"):
            decided = (loss < 0.5).any(1) | (metrics["grad_norm"] < 1e-6).any(1)
        return active & decided


@pytest.fixture(scope="module", params=["kernel", "vmap"])
def retired(request):
    name = request.param
    states0 = _states()
    executor = make_executor(name, DA_TASK, DA_TASK.all_trials(), CHUNK)
    sink, rule = MemorySink(), _Decided()
    out = drive(states0, executor, make_schedule(EPOCHS, chunk=CHUNK), sink,
                retire=rule, budgets=BUDGETS)  # fmt: skip
    return executor, states0, out, sink.metrics(), rule


def _alone(executor, states0, g, epochs):
    sink = MemorySink()
    out = drive(take(states0, np.array([g])), executor, make_schedule(epochs, chunk=CHUNK), sink)
    return out, sink.metrics()


def test_each_network_equals_training_it_alone_to_the_epoch_it_left(retired):
    executor, states0, out, metrics, rule = retired
    left = np.asarray(out.epoch)
    by_rule = left < BUDGETS
    assert by_rule.any() and (~by_rule).any()  # both ways of leaving are exercised
    assert (left <= BUDGETS).all() and len(set(left.tolist())) > 2
    assert rule.calls[-1][2] < len(BUDGETS)  # the active set shrank
    for g in range(len(BUDGETS)):
        alone, met = _alone(executor, states0, g, int(left[g]))
        for k in ("loss", "grad_norm"):
            np.testing.assert_array_equal(metrics[k][g, : left[g]], met[k][0])
            assert np.isnan(metrics[k][g, left[g] :]).all()
        assert _same(take(out.net, g), take(alone.net, 0)), g
        assert int(out.status[g]) == int(alone.status[0])


def test_negative_control_one_more_epoch_alone_shows(retired):
    executor, states0, out, _, _ = retired
    g = int(np.flatnonzero(np.asarray(out.epoch) < EPOCHS)[0])
    alone, _ = _alone(executor, states0, g, int(out.epoch[g]) + 1)
    assert not _same(take(out.net, g), take(alone.net, 0))


def test_budgets_must_be_one_count_per_network():
    states0 = take(_states(), np.arange(3))
    executor = make_executor("kernel", DA_TASK, DA_TASK.all_trials(), CHUNK)
    with pytest.raises(ValueError, match="`budgets`"):
        drive(states0, executor, make_schedule(5), MemorySink(), budgets=[5, 5])
