"""From a config to what the engine trains: task, batch, networks, interventions, schedule.

Every part of `ghostmech.runs` that needs a config's objects gets them here
(`store` for checkpoint templates, `memory` for the estimate, `run` and
`blocks` for training), so none of them imports another for it.

Grid point (lr, seed, ...) starts from ``build(k_build)`` with ``k_build,
k_train = split(key(seed))`` (as `ghostmech.training.sweep`): a seed gives the
same network at every lr.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.networks import make_network
from ghostmech.runs.config import ExperimentConfig
from ghostmech.runs.grid import Grid
from ghostmech.tasks import TASKS
from ghostmech.training import (
    FixConfidence,
    Freeze,
    SetLR,
    SetValue,
    Unfreeze,
    distinct_trials,
    init_state,
)
from ghostmech.training.engine import (
    Schedule,
    choose_executor,
    kernel_applies,
    make_executor,
    make_schedule,
    stack,
)

__all__ = [
    "make_task",
    "resolve_batch",
    "training_batch",
    "build_network",
    "template_network",
    "initial_states",
    "optimizer_hyper",
    "make_interventions",
    "schedule",
    "grid_axes",
    "executor_name",
    "executor",
    "dry_run",
]


def make_task(config: ExperimentConfig) -> Any:
    """The task of the config, timings in steps."""
    return TASKS[config.task.name](**config.task.steps())


def resolve_batch(config: ExperimentConfig, task: Any) -> Any:
    """A fixed `TaskBatch` ("all" / repeat n) or an int (sample n per epoch)."""
    b = config.task.batch
    if b == "all":
        return task.all_trials()
    return task.repeat_trials(b.repeat) if hasattr(b, "repeat") else b.sample


def training_batch(config: ExperimentConfig, task: Any) -> Any:
    """`resolve_batch` as the executors take it: identical trials run once while σ = 0
    (`ghostmech.training.distinct_trials`, as `fit` / `sweep` do by default)."""
    return distinct_trials.resolve(task, resolve_batch(config, task))


def build_network(config: ExperimentConfig, part: Any, *, key: Any, **axes: Any) -> Any:
    """The initial network of one grid point (``axes``: beta / noise_std values, if swept)."""
    net_cfg, task = config.network, make_task(config)
    try:
        net = make_network(
            n=net_cfg.n,
            rank=net_cfg.rank if part is None else part,
            n_in=task.n_in,
            n_out=task.n_out,
            init=net_cfg.init,
            readout=net_cfg.readout,
            readout_kwargs=net_cfg.readout_kwargs,
            alpha=net_cfg.alpha,
            noise_std=net_cfg.noise_std,
            noise_scaling=net_cfg.noise_scaling,
            read=net_cfg.read,
            frozen=tuple(net_cfg.frozen),
            key=key,
        )
    except ValueError as err:
        if part is None:
            raise
        raise ValueError(f"grid.rank entry (={part!r}): {err}") from None
    if "beta" in axes:
        if not hasattr(net.readout, "beta"):
            raise ValueError(f"grid.beta needs a readout with β; got {net_cfg.readout!r}")
        net = eqx.tree_at(lambda n: n.readout.beta, net, jnp.asarray(axes["beta"], jnp.float32))
    if "noise_std" in axes:
        net = eqx.tree_at(lambda n: n.noise_std, net, jnp.asarray(axes["noise_std"], jnp.float32))
    return net


def template_network(config: ExperimentConfig, part: Any) -> Any:
    """A network with the structure of the config's (values meaningless)."""
    return build_network(config, part, key=jax.random.key(0))


def optimizer_hyper(config: ExperimentConfig) -> dict[str, float]:
    """Optimiser hyper-parameters besides the lr (``training.clip_norm``)."""
    c = config.training.clip_norm
    return {} if c is None else {"clip_norm": c}


def initial_states(config: ExperimentConfig, grid: Grid, part: Any, indices: Any = None) -> Any:
    """The stacked `TrainState` of the grid points ``indices`` (flat, C order; default all)."""
    idx = np.arange(grid.size) if indices is None else np.asarray(indices, np.int64)
    pts = {d: v[idx] for d, v in grid.points().items()}
    axis_names = [d for d in grid.dims if d in ("beta", "noise_std")]
    nets = []
    for g in range(idx.size):
        k_build, _ = jax.random.split(jax.random.key(int(pts["seed"][g])))
        nets.append(build_network(config, part, key=k_build, **{d: pts[d][g] for d in axis_names}))
    train_keys = jax.vmap(lambda s: jax.random.split(jax.random.key(s))[1])(
        jnp.asarray(pts["seed"])
    )
    hyper = optimizer_hyper(config)
    init = eqx.filter_vmap(
        lambda net, lr, key: init_state(
            net, optimizer=config.training.optimizer, lr=lr, key=key, **hyper
        )
    )
    return init(stack(nets), jnp.asarray(pts["lr"], jnp.float32), train_keys)


def make_interventions(config: ExperimentConfig) -> list[Any]:
    """The config's ``[[interventions]]`` as `ghostmech.training.interventions` objects."""
    out = []
    for iv in config.interventions:
        if iv.kind == "set_value":
            out.append(SetValue(iv.epoch, iv.path, iv.value))
        elif iv.kind == "set_lr":
            out.append(SetLR(iv.epoch, iv.value))
        elif iv.kind == "fix_confidence":
            out.append(FixConfidence(iv.epoch, iv.value))
        else:
            cls = Freeze if iv.kind == "freeze" else Unfreeze
            out.append(cls(iv.epoch, tuple(iv.paths)))
    return out


def schedule(config: ExperimentConfig) -> Schedule:
    """The engine's `Schedule` of the config (checkpoints only if ``output.save_checkpoints``)."""
    tr = config.training
    ckpts = config.checkpoints.spec() if config.output.save_checkpoints else []
    return make_schedule(tr.epochs, chunk=tr.chunk, checkpoints=ckpts,
                         interventions=make_interventions(config))  # fmt: skip


def grid_axes(grid: Grid, indices: Any = None) -> dict[str, Any]:
    """Per-network values of every grid axis but the seed (for interventions naming one)."""
    pts = grid.points()
    idx = slice(None) if indices is None else np.asarray(indices, np.int64)
    return {d: jnp.asarray(v[idx], jnp.float32) for d, v in pts.items() if d != "seed"}


def executor_name(config: ExperimentConfig, grid: Grid, part: Any) -> str:
    """The executor of a part (the whole grid: never of a block), by `choose_executor`."""
    backend = config.training.backend
    if backend not in ("auto", "kernel"):
        return backend
    task = make_task(config)
    ok = kernel_applies(
        template_network(config, part),
        task,
        training_batch(config, task),
        optimizer=config.training.optimizer,
        interventions=make_interventions(config),
        hyper=optimizer_hyper(config),
        uniform="beta" not in grid.coords and "noise_std" not in grid.coords,
    )
    return choose_executor(backend, applies=ok, where="training.backend")


def executor(config: ExperimentConfig, grid: Grid, part: Any, task: Any, batch: Any) -> Any:
    """The executor object of a part (`executor_name`), for the config's chunk."""
    tr = config.training
    return make_executor(executor_name(config, grid, part), task, batch, min(tr.chunk, tr.epochs))


def dry_run(config: ExperimentConfig, grid: Grid) -> None:
    """Fail before writing anything: build one network of each part, apply each intervention."""
    schedule(config)
    pts = {d: v[0] for d, v in grid.points().items()}
    axes = {d: jnp.asarray(v, jnp.float32) for d, v in pts.items() if d != "seed"}
    for part in grid.parts:
        executor_name(config, grid, part)
        net = build_network(config, part, key=jax.random.key(0),
                            **{d: pts[d] for d in ("beta", "noise_std") if d in pts})  # fmt: skip
        state = init_state(
            net,
            optimizer=config.training.optimizer,
            lr=1.0,
            key=jax.random.key(0),
            **optimizer_hyper(config),
        )
        for iv in make_interventions(config):
            iv.apply(state, axes)
