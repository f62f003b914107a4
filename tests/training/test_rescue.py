"""The automatic rescue rule: a second implementation of plain SGD, a trapped and a healthy case."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation
from ghostmech.training import fit
from ghostmech.training.interventions import SetValue
from ghostmech.training.kernels import train_rank1_da_chunk
from ghostmech.training.rescue import Rescue, fit_with_rescue, train_rank1_da_rescue

RULE = Rescue(low=0.3, epochs=100)
RESUME = Rescue(low=0.3, epochs=100, grad_max0=1.0)  # trapped runs carry no gradient history


def _init(seeds):
    nets = [make_preset("fig8b", key=jax.random.key(s)) for s in seeds]
    return tuple(
        jnp.stack([jnp.asarray(x, jnp.float32) for x in xs])
        for xs in ([n.m[:, 0] for n in nets], [n.nT[:, 0] for n in nets], [n.b for n in nets])
    )


def _trapped(loss, grad):
    return (loss[:, -1] > 0.9) & (grad[:, -1] < 1e-6)


@pytest.fixture(scope="module")
def trapped_params():
    """Networks trained at lr 0.06 (above the critical lr) until the no-learning zone, by
    the rescue scan without the rule: the program the tests continue them with (their
    bits then do not depend on another program's compiled width)."""
    m, n, b = _init(range(6))
    res = train_rank1_da_rescue(m, n, b, 0.06, beta=jnp.full(6, 10.0), epochs=2500)
    p, met = res.params, res.metrics
    keep = _trapped(met["loss"], met["grad_norm"])
    assert keep.sum() >= 2, "construction: lr 0.06 traps most networks (13 of 16 in Fig. 8B)"
    return {k: np.asarray(v)[keep] for k, v in p.items()}


def test_without_the_rule_it_is_the_kernel():
    """rescue=None is plain SGD: matches train_rank1_da_chunk (float32 rounding)."""
    m, n, b = _init([0, 1])
    _, ref = train_rank1_da_chunk(m, n, b, jnp.full(2, 0.01), epochs=300)
    got = train_rank1_da_rescue(m, n, b, 0.01, beta=jnp.full(2, 10.0), epochs=300)
    np.testing.assert_allclose(got.metrics["loss"], ref["loss"], rtol=1e-4, atol=1e-6)
    assert got.starts == [[], []]


def test_rule_rescues_a_trapped_network(trapped_params):
    nets = len(trapped_params["m"])
    args = [trapped_params[k] for k in "mnb"]
    plain = train_rank1_da_rescue(*args, 0.02, beta=jnp.full(nets, 10.0), epochs=150)
    assert _trapped(plain.metrics["loss"], plain.metrics["grad_norm"]).all()
    saved = train_rank1_da_rescue(*args, 0.02, beta=jnp.full(nets, 10.0), epochs=150, rescue=RESUME)
    assert all(s[:1] == [1] for s in saved.starts)  # fires at once: epoch 0 is trapped
    last = saved.metrics  # epoch 101 is back at β = 10
    assert not _trapped(last["loss"][:, :102], last["grad_norm"][:, :102]).any()
    assert (last["loss"][:, 101] < plain.metrics["loss"][:, 101]).all()


def test_rule_leaves_a_healthy_network_alone():
    """lr 0.01 learns (docs/model.md §4 3A setting): the rule never fires, training is unchanged."""
    m, n, b = _init([0])
    kw = dict(beta=jnp.full(1, 10.0), epochs=12_000, chunk=12_000)
    plain = train_rank1_da_rescue(m, n, b, 0.01, **kw)
    ruled = train_rank1_da_rescue(m, n, b, 0.01, rescue=RULE, **kw)
    assert ruled.starts == [[]]
    assert plain.metrics["loss"][0, -1] < 0.1
    np.testing.assert_array_equal(ruled.metrics["loss"], plain.metrics["loss"])


def test_host_side_rule_on_a_rate_rnn(trapped_params):
    """fit_with_rescue (generic training, readout.beta) rescues the same trapped network."""
    net = make_preset("fig8b", key=jax.random.key(0))
    arrays = (
        jnp.asarray(trapped_params["m"][0])[:, None],
        jnp.asarray(trapped_params["n"][0])[:, None],
        jnp.asarray(trapped_params["b"][0]),
    )
    net = eqx.tree_at(lambda x: (x.m, x.nT, x.b), net, arrays)
    res = fit_with_rescue(
        net,
        DelayedActivation(20, 20),
        lr=0.02,
        epochs=200,
        key=jax.random.key(1),
        rescue=RESUME,
        check_every=50,
    )
    assert res.starts == [[50]]
    assert float(res.params.readout.beta) == 10.0  # restored
    assert res.metrics["loss"][150] < 0.9  # first epoch back at β = 10


def test_rescue_rejects_bad_arguments():
    with pytest.raises(ValueError, match="low"):
        Rescue(low=0.0)
    with pytest.raises(ValueError, match="epochs"):
        Rescue(epochs=0)


def _replayed(starts, low, k, normal, epochs, shift=0):
    """The rescues of a run as scheduled interventions: β ← low at s, back at s + k."""
    ivs = []
    for s in starts:
        ivs.append(SetValue(s + shift, "readout.beta", low))
        if s + shift + k <= epochs:
            ivs.append(SetValue(s + shift + k, "readout.beta", normal))
    return ivs


def test_the_host_rule_is_fit_with_its_rescues_scheduled():
    """`fit_with_rescue` decides its rescues from the metrics (an engine Rule); replaying
    the same rescues as scheduled interventions through `fit` gives the same bits."""
    net = make_preset("fig8b", key=jax.random.key(5))
    task, kw = DelayedActivation(20, 20), dict(lr=0.05, epochs=300, key=jax.random.key(0))
    rule = Rescue(low=0.3, epochs=30, grad_ratio=2.0, loss_min=0.0)  # fires at every check
    res = fit_with_rescue(net, task, rescue=rule, check_every=50, **kw)
    (starts,) = res.starts
    assert len(starts) >= 3  # construction: a ratio of 2 fires whenever it is not rescuing
    ref = fit(net, task, interventions=_replayed(starts, 0.3, 30, 10.0, 300), **kw)
    for k in ("loss", "grad_norm"):
        np.testing.assert_array_equal(res.metrics[k], ref.metrics[k])
    np.testing.assert_array_equal(res.metrics["rescuing"] > 0,
                                  [any(s <= e < s + 30 for s in starts) for e in range(300)])  # fmt: skip
    # negative control: the same rescues one epoch later give other numbers
    late = fit(net, task, interventions=_replayed(starts[:-1], 0.3, 30, 10.0, 300, shift=1), **kw)
    assert not np.array_equal(res.metrics["loss"], late.metrics["loss"])


@pytest.mark.parametrize("width", [1, 9])
def test_a_networks_bits_do_not_depend_on_its_neighbours(width):
    """The rescue scan compiles at the grid's width (no fixed-width groups as in the
    kernel): the first networks give the same bits alone as among 11 (rule on, lr above
    η_c so that it fires for network 8)."""
    m, n, b = _init(range(11))
    beta = jnp.full(11, 10.0)
    every = train_rank1_da_rescue(m, n, b, 0.06, beta=beta, epochs=1500, rescue=RULE, chunk=500)
    assert any(every.starts), "construction: the rule fires (network 8 near epoch 1200)"
    few = train_rank1_da_rescue(m[:width], n[:width], b[:width], 0.06, beta=beta[:width],
                                epochs=1500, rescue=RULE, chunk=500)  # fmt: skip
    for k in ("loss", "grad_norm", "rescuing"):
        np.testing.assert_array_equal(few.metrics[k], every.metrics[k][:width])
    assert few.starts == every.starts[:width]
