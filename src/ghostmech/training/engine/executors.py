"""Executors: how the stacked `TrainState` of G networks trains for one chunk.

An `Executor` has ``run(states, start, n) -> (states, metrics)`` (train the
epochs ``start .. start + n − 1``; ``metrics[k]`` holds the recorded epochs
of those only: ``[G, count]``, `recorded_slots`) and ``apply(states,
intervention, axes)``. All train the same per-network maths
(`ghostmech.training.step.run_chunk`; the kernel derives it by hand):

* ``"loop"``   the jitted one-network `train_chunk`, network after network
  (the program of `fit`: bit-identical to it);
* ``"vmap"``   the jitted `run_chunk` vmapped over groups of `vmap_width` networks
  (64 for cheap networks such as rank one, down to 1 for full rank at N = 100);
* ``"kernel"`` the hand-derived rank-one DA kernel, one call per chunk
  (`ghostmech.training.kernels.train_rank1_da_chunk`, same maths, own operation
  order, no accuracy: NaN) on groups of `KERNEL_WIDTH` networks, where
  `kernel_applies`.

Partition independence. A compiled program of another width may round
differently (measured: the kernel at width 4 and at width 44 differ in the
last bit after 5 epochs, and near η_c training amplifies it). So every
executor runs a FIXED width: the networks are cut into groups of that width,
the last group padded with copies of its last network (results discarded).
Within one program the networks (lanes) do not interact, and a lane's bits do
not depend on its position (tested: tests/training/test_engine.py), so a
network's numbers depend neither on its neighbours nor on how a grid is split
into blocks, processes or workers. The widths are powers of two: every
vectorised loop over the network axis then handles all lanes alike. Whether
a network draws noise (σ ≠ 0) is decided per network for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.training import kernels
from ghostmech.training.engine.stacks import concat, padded_index, size, stack, take
from ghostmech.training.interventions import Intervention
from ghostmech.training.step import recorded_slots, run_chunk, train_chunk

__all__ = [
    "Executor",
    "OneNetwork",
    "LoopExecutor",
    "VmapExecutor",
    "KernelExecutor",
    "EXECUTORS",
    "VMAP_WIDTH",
    "VMAP_WORK",
    "KERNEL_WIDTH",
    "vmap_width",
    "kernel_applies",
    "choose_executor",
    "make_executor",
]

#: most networks per compiled vmapped program (a power of two; see the module docstring)
VMAP_WIDTH = 64
#: a vmapped program of cheap networks is as wide as keeps its work near this many
#: multiply-adds per time step and trial (width × N × K); wider only adds padding
VMAP_WORK = 8192
#: networks per compiled kernel program (`kernels.WIDTH`: measured fastest per
#: network-epoch among 8 ... 300 on the 2-core benchmark box: docs/benchmarks.md)
KERNEL_WIDTH = kernels.WIDTH


class Executor(Protocol):
    width: int

    def run(self, states: Any, start: int, n: int) -> tuple[Any, dict[str, np.ndarray]]: ...

    def apply(self, states: Any, intervention: Intervention, axes: Mapping[str, Any]) -> Any: ...


def _apply_vmapped(states, intervention, axes):
    return eqx.filter_vmap(lambda s, a: intervention.apply(s, a))(states, dict(axes))


def _recorded(metrics: dict[str, Any], start: int, n: int, every: int, *, full: bool = False):
    """The ``count`` recorded epochs of a chunk (``full``: metrics of every slot, subsample)."""
    offset, count = recorded_slots(start, n, every)
    if full:
        return {k: np.asarray(v)[..., offset::every][..., :count] for k, v in metrics.items()}
    return {k: np.asarray(v)[..., :count] for k, v in metrics.items()}


class OneNetwork:
    """One unstacked network through the jitted `train_chunk` (what `fit` runs)."""

    width = 1

    def __init__(self, task: Any, batch: Any, chunk: int, record_every: int = 1, noisy=None):
        self.task, self.batch, self.chunk, self.every = task, batch, chunk, record_every
        self.noisy = noisy

    def run(self, state, start, n):
        state, m = train_chunk(state, self.task, self.chunk, batch=self.batch, n_active=n,
                               record_every=self.every, noisy=self.noisy)  # fmt: skip
        return state, _recorded(m, start, n, self.every)

    def apply(self, state, intervention, axes):
        return intervention.apply(state, axes)


class LoopExecutor:
    """Network after network, each through `OneNetwork` (bit-identical to `fit`)."""

    width = 1

    @staticmethod
    def width_for(net: Any) -> int:
        return 1

    def __init__(self, task: Any, batch: Any, chunk: int, record_every: int = 1):
        self.one = OneNetwork(task, batch, chunk, record_every)

    def run(self, states, start, n):
        outs = [self.one.run(take(states, g), start, n) for g in range(size(states))]
        metrics = {k: np.stack([o[1][k] for o in outs]) for k in outs[0][1]}
        return stack([o[0] for o in outs]), metrics

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


_vrun = eqx.filter_jit(
    eqx.filter_vmap(run_chunk, in_axes=(eqx.if_array(0), None, None, None, None, None, None))
)


def _noisy_lanes(states: Any) -> np.ndarray:
    """Per network: may it draw noise (`has_noise` of that network alone)?"""
    g = size(states)
    sigma = getattr(states.net, "noise_std", None)
    if sigma is None or isinstance(sigma, jax.core.Tracer):
        return np.ones(g, bool)
    sigma = np.asarray(sigma)
    return np.broadcast_to(sigma.reshape(sigma.shape[:1] if sigma.ndim else ()) != 0, (g,))


def _in_groups(states: Any, width: int, flags: np.ndarray, run) -> tuple[Any, dict]:
    """``run(group, flag)`` on groups of exactly ``width`` networks of equal ``flag``; the
    results (states, metrics) reassembled in the original order, padding dropped."""
    pieces, order = [], []
    for flag in np.unique(flags):
        idx = np.flatnonzero(flags == flag)
        full = padded_index(idx, width)
        for s in range(0, full.size, width):
            real = min(width, idx.size - s)
            new, m = run(take(states, full[s : s + width]), bool(flag))
            pieces.append((take(new, np.arange(real)), {k: v[:real] for k, v in m.items()}))
            order.append(idx[s : s + real])
    inverse = np.argsort(np.concatenate(order), kind="stable")
    joined = concat([p[0] for p in pieces])
    metrics = {k: np.concatenate([p[1][k] for p in pieces])[inverse] for k in pieces[0][1]}
    return take(joined, inverse), metrics


def vmap_width(net: Any) -> int:
    """The compiled width of the vmapped program for networks shaped like ``net``.

    Its per-step work is N·K multiply-adds (K the rank, N for full rank): cheap
    networks (rank one, N = 100: 100) share a program `VMAP_WIDTH` = 64 wide,
    which amortises the per-step overhead; expensive ones (full rank, N = 100:
    10⁴) run one per program, where padding would only waste work. The width
    is the largest power of two ≤ `VMAP_WORK` / (N·K), in [1, `VMAP_WIDTH`]:
    it depends on the network's shape only, never on the grid or its blocks.
    (Measured on the 2-core box, rank-one DA, 300 networks, 20 epochs: width 64
    2.9-3.3 s, 300 5.5-7.7 s, 8 5.9-6.6 s; the box was loaded, see docs/benchmarks.md.)
    """
    n = int(net.b.shape[-1])
    k = n if net.rank is None else int(net.rank)
    fit = max(1, VMAP_WORK // (n * k))
    return min(VMAP_WIDTH, 1 << (fit.bit_length() - 1))


class VmapExecutor:
    """`run_chunk` vmapped over groups of `vmap_width` networks, one jitted program."""

    width = VMAP_WIDTH  # at most; the width of a grid: `width_for` / `vmap_width`

    def __init__(self, task: Any, batch: Any, chunk: int, record_every: int = 1):
        self.task, self.batch, self.chunk, self.every = task, batch, chunk, record_every

    @staticmethod
    def width_for(net: Any) -> int:
        return vmap_width(net)

    def run(self, states, start, n):
        active = jnp.asarray(n, jnp.int32)

        def group(sub, noisy):
            sub, m = _vrun(sub, self.task, self.batch, self.chunk, active, noisy, self.every)
            return sub, {k: np.asarray(v) for k, v in m.items()}

        width = vmap_width(take(states.net, 0))
        states, metrics = _in_groups(states, width, _noisy_lanes(states), group)
        return states, _recorded(metrics, start, n, self.every)

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


_KERNEL_METRICS = ("loss", "grad_norm")  # the kernel reports no accuracy


class KernelExecutor:
    """Rank-one networks on DA with SGD through the fused kernel
    (`kernels.train_rank1_da_chunk`: groups of `KERNEL_WIDTH`, one call per chunk)."""

    width = KERNEL_WIDTH

    def __init__(self, task: Any, batch: Any, chunk: int, record_every: int = 1):
        self.task, self.chunk, self.every = task, chunk, record_every

    @staticmethod
    def width_for(net: Any) -> int:
        return KERNEL_WIDTH

    def run(self, states, start, n):
        net = states.net
        alive = np.asarray(states.status) == 0
        lr = np.where(alive, np.asarray(states.opt_state.hyperparams["learning_rate"]), 0.0)
        beta, theta = (np.unique(np.asarray(x)) for x in (net.readout.beta, net.readout.theta))
        if beta.size != 1 or theta.size != 1:
            raise ValueError("the rank-one DA kernel needs one β and κ_θ for the whole grid")
        r0 = jnp.asarray(net.r0)
        r0 = r0[:, None] if r0.ndim == 1 else r0  # one r₀ per network: broadcast over neurons
        params, met = kernels.train_rank1_da_chunk(
            net.m[:, :, 0], net.nT[:, :, 0], net.b, jnp.asarray(lr, net.m.dtype),
            epochs=n, beta=float(beta[0]), theta=float(theta[0]),
            alpha=net.alpha, r0=r0, delay=self.task.delay, response=self.task.response,
        )  # fmt: skip
        died = alive & (met["status"] != 0)
        states = eqx.tree_at(
            lambda s: (s.params.m, s.params.nT, s.params.b, s.epoch, s.status, s.nan_epoch),
            states,
            (
                params["m"][..., None],
                params["n"][..., None],
                params["b"],
                states.epoch + n,
                jnp.where(died, 1, states.status),
                jnp.where(died, states.epoch + met["nan_epoch"], states.nan_epoch),
            ),
        )
        out = {k: np.where(alive[:, None], met[k], np.nan) for k in _KERNEL_METRICS}
        out["accuracy"] = np.full_like(out["loss"], np.nan)
        return states, _recorded(out, start, n, self.every, full=True)

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


EXECUTORS: dict[str, type] = {
    "vmap": VmapExecutor,
    "loop": LoopExecutor,
    "kernel": KernelExecutor,
}
BACKENDS = ("auto", *EXECUTORS)


def _full_da_batch(task: Any, batch: Any) -> bool:
    """Is ``batch`` a fixed batch of copies of the task's one trial (``"all"``, repeat n)?"""
    if not all(hasattr(batch, a) for a in ("inputs", "targets", "mask")):
        return False
    ref = task.all_trials()
    return all(
        np.array_equal(np.asarray(a), np.broadcast_to(np.asarray(b)[:, :1], np.shape(a)))
        for a, b in ((batch.inputs, ref.inputs), (batch.targets, ref.targets), (batch.mask, ref.mask))
    )  # fmt: skip


def kernel_applies(
    net: Any,
    task: Any,
    batch: Any,
    *,
    optimizer: str,
    interventions: Any = (),
    hyper: Mapping[str, Any] | None = None,
    uniform: bool = True,
) -> bool:
    """THE rule for the rank-one DA kernel: it computes what the generic program would.

    ``net``: one network of the grid; ``uniform``: every network of the grid has
    its β, κ_θ and σ (no such grid axis). Needs `kernels.applies` (SGD, no
    interventions, DA, rank one, Eq. 36 readout, σ = 0, m/nT/b trained), no other
    optimiser hyper-parameter (``clip_norm``) and a full DA batch.
    """
    return (
        uniform
        and not hyper
        and kernels.applies(net, task, optimizer=optimizer, interventions=tuple(interventions))
        and _full_da_batch(task, batch)
    )


def choose_executor(backend: str, *, applies: bool, where: str = "backend") -> str:
    """``"auto"`` -> ``"kernel"`` where it applies, else ``"vmap"``; ``"kernel"`` where it
    does not is an error (one line naming ``where``)."""
    if backend == "kernel" and not applies:
        raise ValueError(
            f"{where} (='kernel') needs rank-1 networks with the threshold readout (one β, κ_θ) "
            "on DA with the full batch, SGD without clip_norm, no noise and no interventions; "
            "use 'auto' or 'vmap'"
        )
    if backend == "auto":
        return "kernel" if applies else "vmap"
    return backend


def make_executor(name: str, task: Any, batch: Any, chunk: int, record_every: int = 1) -> Any:
    """The executor ``name`` (a key of `EXECUTORS`) for this task, batch and schedule."""
    return EXECUTORS[name](task, batch, chunk, record_every)
