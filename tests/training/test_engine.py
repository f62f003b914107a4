"""The training engine: a network's numbers do not depend on its neighbours; `fit` = `sweep`.

Partition independence. A compiled program of another width may round
differently (measured here: the rank-one kernel at width 4 and at width 44 on
the docs/guide/sweeps.md grid differ in the last bit after 5 epochs, and near
η_c that flipped 3 of 4 seeds from learned to trapped). Every executor now runs
one fixed width, so training a network alone, in a sub-grid or in the whole
grid must give the same bits. The grid spans lrs up to far above η_c, where
training amplifies the last bit fastest.

Equivalence. `fit` and ``sweep(backend="loop")`` run the same program: bitwise.
``"vmap"`` vmaps it (matrix products may sum in another order) and the kernel
derives the gradient by hand: equal to float32 rounding (stated tolerances) at
lrs below η_c, where rounding differences are not amplified.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from training_cases import DA_TASK, da_net
from training_cases import same_bits as _same

from ghostmech.networks import make_network
from ghostmech.training import fit, sweep
from ghostmech.training.engine import KERNEL_WIDTH, VMAP_WIDTH, vmap_width

LRS = [0.05, 0.3, 1.0, 3.0, 10.0]
SEEDS = [0, 1, 2]
RUN = dict(epochs=40, chunk=15, checkpoints={"every": 20})


def _build(key):
    return da_net(key)


def _at(tree, i, j):
    return jax.tree.map(lambda x: x[i, j], tree)


@pytest.fixture(scope="module", params=["kernel", "vmap"])
def whole(request):
    backend = request.param
    return backend, sweep(_build, DA_TASK, lrs=LRS, seeds=SEEDS, backend=backend, **RUN)


def test_widths_are_powers_of_two_fixed_by_the_network_shape():
    for w in (KERNEL_WIDTH, VMAP_WIDTH):
        assert w >= 1 and w & (w - 1) == 0
    key = jax.random.key(0)
    assert vmap_width(da_net(key)) == VMAP_WIDTH  # rank one, N = 8: cheap
    full = make_network(n=100, rank="full", readout="linear", key=key)
    assert vmap_width(full) == 1  # N·N = 10⁴ multiply-adds per step: alone
    widths = [vmap_width(make_network(n=100, rank=k, readout="linear", key=key))
              for k in (1, 2, 5, 10, 100)]  # fmt: skip
    assert widths == sorted(widths, reverse=True) and all(w & (w - 1) == 0 for w in widths)


@pytest.mark.parametrize("lrs, seeds", [([3.0], [1]), ([10.0], [2]), (LRS[1:3], SEEDS[::-1])])
def test_a_network_alone_or_in_a_sub_grid_gets_its_bits_from_the_whole_grid(whole, lrs, seeds):
    backend, ref = whole
    part = sweep(_build, DA_TASK, lrs=lrs, seeds=seeds, backend=backend, **RUN)
    for i, lr in enumerate(lrs):
        for j, seed in enumerate(seeds):
            gi, gj = LRS.index(lr), SEEDS.index(seed)
            for k in ("loss", "grad_norm"):
                np.testing.assert_array_equal(part.metrics[k][i, j], ref.metrics[k][gi, gj])
            assert _same(_at(part.params, i, j),
                         _at(ref.params, gi, gj))  # fmt: skip
            assert _same(_at(part.checkpoints[20], i, j),
                         _at(ref.checkpoints[20], gi, gj))  # fmt: skip
            assert part.status[i, j] == ref.status[gi, gj]


def test_negative_control_one_ulp_in_one_network_shows_in_the_comparison(whole):
    backend, ref = whole

    def nudged(key):  # m of every network one float32 ulp up (b starts at 0: subnormal)
        net = _build(key)
        return eqx.tree_at(lambda n: n.m, net, jnp.nextafter(net.m, jnp.inf))

    part = sweep(nudged, DA_TASK, lrs=[3.0], seeds=[1], backend=backend, **RUN)
    assert not _same(_at(part.params, 0, 0), _at(ref.params, 3, 1))


def test_fit_equals_the_loop_backend_bitwise_and_vmap_and_kernel_to_rounding():
    lrs = [0.05, 0.3]  # below η_c (≈ 1 here): rounding differences stay small
    res = {b: sweep(_build, DA_TASK, lrs=lrs, seeds=SEEDS[:2], backend=b, **RUN)
           for b in ("loop", "vmap", "kernel")}  # fmt: skip
    for i, lr in enumerate(lrs):
        for j, seed in enumerate(SEEDS[:2]):
            k_build, k_train = jax.random.split(jax.random.key(seed))
            one = fit(_build(k_build), DA_TASK, lr=lr, key=k_train, **RUN)
            np.testing.assert_array_equal(res["loop"].metrics["loss"][i, j], one.metrics["loss"])
            assert _same(_at(res["loop"].params, i, j), one.params)
    for b in ("vmap", "kernel"):
        for k in ("loss", "grad_norm"):
            np.testing.assert_allclose(
                res[b].metrics[k], res["loop"].metrics[k], rtol=2e-5, atol=1e-7
            )
        np.testing.assert_allclose(res[b].params.b, res["loop"].params.b, rtol=1e-4, atol=1e-6)
    assert np.isnan(res["kernel"].metrics["accuracy"]).all()  # the kernel reports none


class _Counting:
    """An executor on a bare epoch counter: metrics are the epochs run; records applies."""

    width = 1

    def __init__(self):
        self.chunks, self.applied = [], []

    def run(self, states, start, n):
        self.chunks.append((start, start + n))
        return states._replace(epoch=start + n), {"loss": np.arange(start, start + n, dtype=float)}

    def apply(self, states, intervention, axes):
        self.applied.append((states.epoch, intervention))
        return states


class _EveryThree:
    """A rule: chunks of at most 3 epochs; decides 'rescue' after the chunk ending at 6."""

    def stop_after(self, epoch):
        return epoch + 3

    def decide(self, start, stop, metrics):
        assert metrics["loss"].tolist() == list(range(start, stop))  # the chunk's own metrics
        return ("rescue",) if stop == 6 else ()


def test_a_rule_ends_chunks_and_its_interventions_follow_the_scheduled_ones():
    from typing import NamedTuple

    from ghostmech.training.engine import MemorySink, Schedule, drive
    from ghostmech.training.interventions import SetLR

    class S(NamedTuple):
        epoch: int
        net: object = None

    scheduled = SetLR(6, 0.1)
    sched = Schedule(epochs=10, chunk=4, checkpoints=(6,), interventions=(scheduled,))
    ex, sink = _Counting(), MemorySink()
    out = drive(S(0), ex, sched, sink, rule=_EveryThree())
    assert out.epoch == 10
    assert ex.chunks == [(0, 3), (3, 6), (6, 9), (9, 10)]  # the rule's 3 and the schedule's end
    assert ex.applied == [(6, scheduled), (6, "rescue")]  # after the checkpoint at 6, in order
    assert list(sink.saved) == [6]
    np.testing.assert_array_equal(sink.metrics()["loss"], np.arange(10))
    # negative control: without the rule the chunks are the schedule's and nothing is decided
    ex2 = _Counting()
    drive(S(0), ex2, sched, MemorySink())
    assert ex2.chunks == [(0, 4), (4, 6), (6, 10)] and ex2.applied == [(6, scheduled)]
