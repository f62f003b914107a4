"""Executors: how a run trains the stacked `TrainState` of a grid for one chunk.

An executor has ``run(states, task, batch, slots, n_active) -> (states, metrics)``
with ``metrics[k]`` shaped ``[networks, slots]`` (NaN past ``n_active``) and
``apply(states, intervention, axes) -> states``. Both wrap the per-network
`ghostmech.training.step.run_chunk`, so every executor trains the same maths:

* ``"vmap"``  one jitted program vmapped over the networks (compiles once per
  run: ``n_active`` is data, the slot count fixed);
* ``"loop"``  the jitted one-network `train_chunk`, network after network
  (bit-identical to `ghostmech.training.fit` of that network);
* ``"kernel"`` the hand-derived rank-one DA kernel
  (`ghostmech.training.kernels.train_rank1_da_grid`, about 10x faster) where
  `ghostmech.training.kernels.applies`; it reports no accuracy (NaN).

``"auto"`` (the config default) picks ``"kernel"`` where it applies, else ``"vmap"``.

Above them, `ghostmech.runs.dask_executor` splits a grid into blocks of
networks (`ghostmech.runs.partition`) and runs each block, with one of these
executors, in this process or on a Dask cluster. Every block is padded to the
same width, so a network's bits do not depend on where its block ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.training import Intervention, TrainState, run_chunk, train_chunk
from ghostmech.training.kernels import train_rank1_da_grid
from ghostmech.training.step import has_noise

__all__ = ["Executor", "VmapExecutor", "LoopExecutor", "KernelExecutor", "EXECUTORS"]


class Executor(Protocol):
    def run(
        self, states: TrainState, task: Any, batch: Any, slots: int, n_active: int
    ) -> tuple[TrainState, dict[str, np.ndarray]]: ...

    def apply(
        self, states: TrainState, intervention: Intervention, axes: Mapping[str, Any]
    ) -> TrainState: ...


_vrun = eqx.filter_jit(
    eqx.filter_vmap(run_chunk, in_axes=(eqx.if_array(0), None, None, None, None, None))
)


def _apply_vmapped(states, intervention, axes):
    return eqx.filter_vmap(lambda s, a: intervention.apply(s, a))(states, dict(axes))


class VmapExecutor:
    """The whole grid as one vmapped, jitted program."""

    def run(self, states, task, batch, slots, n_active):
        # `has_noise` of the concrete grid, as `training.sweep`: σ = 0 everywhere -> no draw,
        # and a `distinct_trials` batch runs its distinct trials only
        n = jnp.asarray(n_active, jnp.int32)
        states, metrics = _vrun(states, task, batch, slots, n, has_noise(states))
        return states, {k: np.asarray(v) for k, v in metrics.items()}

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


def _index(tree: Any, g: int) -> Any:
    return jax.tree.map(lambda x: x[g] if eqx.is_array(x) else x, tree)


def _stack(trees: list[Any]) -> Any:
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *arrays)
    return eqx.combine(stacked, eqx.filter(trees[0], eqx.is_array, inverse=True))


class LoopExecutor:
    """One network at a time (the reference for the vmapped executor)."""

    def run(self, states, task, batch, slots, n_active):
        outs = [
            train_chunk(_index(states, g), task, slots, batch=batch, n_active=n_active)
            for g in range(int(states.epoch.shape[0]))
        ]
        metrics = {k: np.stack([np.asarray(o[1][k]) for o in outs]) for k in outs[0][1]}
        return _stack([o[0] for o in outs]), metrics

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


def _pad(x: np.ndarray, slots: int) -> np.ndarray:
    out = np.full((x.shape[0], slots), np.nan, np.float32)
    out[:, : x.shape[1]] = x
    return out


class KernelExecutor:
    """Rank-one networks on DA with SGD through the fused kernel (same maths, own op order)."""

    def run(self, states, task, batch, slots, n_active):
        net = states.net
        alive = np.asarray(states.status) == 0
        lr = np.where(alive, np.asarray(states.opt_state.hyperparams["learning_rate"]), 0.0)
        beta, theta = (np.unique(np.asarray(x)) for x in (net.readout.beta, net.readout.theta))
        if beta.size != 1 or theta.size != 1:
            raise ValueError("the rank-one DA kernel needs one β and κ_θ for the whole grid")
        params, met = train_rank1_da_grid(
            net.m[..., 0], net.nT[..., 0], net.b, jnp.asarray(lr, net.m.dtype),
            epochs=n_active, chunk=n_active, beta=float(beta[0]), theta=float(theta[0]),
            alpha=net.alpha, r0=net.r0, delay=task.delay, response=task.response,
        )  # fmt: skip
        died = alive & (met["status"] != 0)
        states = eqx.tree_at(
            lambda s: (s.params.m, s.params.nT, s.params.b, s.epoch, s.status, s.nan_epoch),
            states,
            (
                params["m"][..., None],
                params["n"][..., None],
                params["b"],
                states.epoch + n_active,
                jnp.where(died, 1, states.status),
                jnp.where(died, states.epoch + met["nan_epoch"], states.nan_epoch),
            ),
        )
        dead = ~alive[:, None]
        metrics = {k: _pad(np.where(dead, np.nan, met[k]), slots) for k in ("loss", "grad_norm")}
        metrics["accuracy"] = np.full_like(metrics["loss"], np.nan)
        return states, metrics

    def apply(self, states, intervention, axes):
        return _apply_vmapped(states, intervention, axes)


EXECUTORS: dict[str, Executor] = {
    "vmap": VmapExecutor(),
    "loop": LoopExecutor(),
    "kernel": KernelExecutor(),
}
