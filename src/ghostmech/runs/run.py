"""`run_experiment`: train a config's grid, writing each chunk to a run directory as it ends.

Schedule (for each part of the grid, i.e. each rank): at epoch e (= updates done)

1. save the checkpoint of epoch e (if asked), then apply the interventions at e;
2. train up to the next event (checkpoint, intervention, end) or ``chunk`` epochs;
3. write that region of ``metrics.zarr``, then the `TrainState` (atomically),
   then ``progress.json``.

The state file therefore always holds the grid after e updates and before the
events at e, and the metrics of every epoch before e are on disk. Rerunning on
the same directory reloads it and follows the same schedule, so an interrupted
run finishes bit-identical to an uninterrupted one (every epoch depends only on
(state, e): see `ghostmech.training.step`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import ghostmech
from ghostmech.networks import make_network
from ghostmech.runs import store
from ghostmech.runs.config import ExperimentConfig, config_from_dict
from ghostmech.runs.executors import EXECUTORS
from ghostmech.runs.grid import Grid, resolve_grid
from ghostmech.runs.memory import check_memory
from ghostmech.tasks import TASKS
from ghostmech.training import (
    FixConfidence,
    Freeze,
    SetLR,
    SetValue,
    Unfreeze,
    checkpoint_epochs,
    distinct_trials,
    init_state,
)
from ghostmech.training.kernels import applies as kernel_applies

__all__ = ["run_experiment", "dir_status", "make_task", "template_network", "RunDirError"]


class RunDirError(ValueError):
    """The output directory holds something this run must not overwrite."""


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


def _stack(trees: list[Any]) -> Any:
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *arrays)
    return eqx.combine(stacked, eqx.filter(trees[0], eqx.is_array, inverse=True))


def initial_states(config: ExperimentConfig, grid: Grid, part: Any, indices: Any = None) -> Any:
    """The stacked `TrainState` of every grid point (C order), as `training.sweep` builds it.

    Point (lr, seed, ...) starts from ``build(k_build)`` with ``k_build, k_train =
    split(key(seed))``, so a seed gives the same network at every lr. ``indices``
    (flat grid indices) stacks only those points, in that order.
    """
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
    hyper = _hyper(config)
    init = eqx.filter_vmap(
        lambda net, lr, key: init_state(
            net, optimizer=config.training.optimizer, lr=lr, key=key, **hyper
        )
    )
    return init(_stack(nets), jnp.asarray(pts["lr"], jnp.float32), train_keys)


def _hyper(config: ExperimentConfig) -> dict[str, float]:
    """Optimiser hyper-parameters besides the lr (``training.clip_norm``)."""
    c = config.training.clip_norm
    return {} if c is None else {"clip_norm": c}


def make_interventions(config: ExperimentConfig) -> list[Any]:
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


def dir_status(out: Path, config: ExperimentConfig) -> str:
    """``"new"``, ``"resume"`` or ``"finished"``; raise `RunDirError` for a foreign directory."""
    import tomllib

    out = Path(out)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return "new"
    if not (out / "config.toml").is_file():
        raise RunDirError(f"--out {str(out)!r} exists and is not a ghostmech run directory")
    old = config_from_dict(tomllib.loads((out / "config.toml").read_text()), source=str(out))
    if old != config:
        diff = _diff(old.model_dump(mode="json"), config.model_dump(mode="json"))
        raise RunDirError(
            f"--out {str(out)!r} holds a run of a different config (differs in: "
            f"{', '.join(diff)}); refusing to overwrite it: choose another --out"
        )
    return "finished" if store.read_progress(out).get("finished") else "resume"


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in {*a, *b} for d in _diff(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


def _axes(grid: Grid) -> dict[str, Any]:
    pts = grid.points()
    return {d: jnp.asarray(v, jnp.float32) for d, v in pts.items() if d != "seed"}


def choose_backend(config: ExperimentConfig, grid: Grid, part: Any) -> str:
    """The executor for a part: ``training.backend``, with "auto" -> "kernel" where it applies."""
    backend = config.training.backend
    if backend not in ("auto", "kernel"):
        return backend
    ok = (
        config.training.clip_norm is None
        and "beta" not in grid.coords
        and "noise_std" not in grid.coords
        and kernel_applies(
            template_network(config, part),
            make_task(config),
            optimizer=config.training.optimizer,
            interventions=config.interventions,
        )
    )
    if backend == "kernel" and not ok:
        raise ValueError(
            "training.backend (='kernel') needs rank-1 networks with the threshold readout on DA, "
            "SGD without clip_norm, no noise, no interventions and no beta/noise_std grid axis; "
            "use 'auto' or 'vmap'"
        )
    return "kernel" if ok else "vmap"


def _dry_run(config: ExperimentConfig, grid: Grid) -> None:
    """Fail before writing anything: build one network of each part, apply each intervention."""
    checkpoint_epochs(config.checkpoints.spec(), config.training.epochs)
    pts = {d: v[0] for d, v in grid.points().items()}
    axes = {d: jnp.asarray(v, jnp.float32) for d, v in pts.items() if d != "seed"}
    for part in grid.parts:
        choose_backend(config, grid, part)
        net = build_network(config, part, key=jax.random.key(0),
                            **{d: pts[d] for d in ("beta", "noise_std") if d in pts})  # fmt: skip
        state = init_state(
            net,
            optimizer=config.training.optimizer,
            lr=1.0,
            key=jax.random.key(0),
            **_hyper(config),
        )
        for iv in make_interventions(config):
            iv.apply(state, axes)


def _start(out: Path, config: ExperimentConfig, grid: Grid, partition: Any = None) -> None:
    """config.toml first (claims the directory), progress.json last (the store is ready).

    With a `ghostmech.runs.partition.Partition`, the store is chunked by its blocks
    and the plan is saved as ``partition.json`` (a resumed run keeps it).
    """
    out.mkdir(parents=True, exist_ok=True)
    store.write_text(out / "config.toml", config.to_toml())
    attrs = {"ghostmech_version": ghostmech.__version__, "jax_version": jax.__version__}
    attrs |= {"name": config.name, "description": config.description}
    ds = store.empty_metrics(config, grid, attrs)
    block = None if partition is None else partition.block
    store.create_metrics(out / "metrics.zarr", ds, config.training.chunk, block)
    if partition is not None:
        store.write_text(out / "partition.json", partition.to_json())
    store.write_progress(out, {"parts": {}, "finished": False})
    store.log(out, f"started {config.name}: grid {dict(zip(grid.dims, grid.shape, strict=True))}")


def run_experiment(
    config: ExperimentConfig,
    out: str | Path,
    *,
    memory_limit_gb: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_chunk: Callable[[Any, int], None] | None = None,
    networks_per_task: int | None = None,
    client: Any = None,
) -> store.Run:
    """Train the config's grid into ``out``; resume it if ``out`` holds an unfinished run.

    ``progress(done, total)`` is called after each chunk with network-epochs;
    ``on_chunk(part, epoch)`` after each chunk is on disk (tests interrupt here).
    A finished run is left untouched; a directory of another config is refused.

    ``networks_per_task`` or a Dask ``client`` split the grid into blocks of
    networks (`ghostmech.runs.dask_executor`); a run started that way always
    resumes that way, with the blocks it started with.
    """
    out = Path(out)
    grid = resolve_grid(config)
    status = dir_status(out, config)
    if status == "finished":
        store.log(out, "rerun of a finished run: nothing to do")
        return store.open_run(out)
    limit = memory_limit_gb if memory_limit_gb is not None else config.output.memory_limit_gb
    blocks = networks_per_task is not None or client is not None
    started = (out / "progress.json").is_file()  # else a start was cut short: redo it
    if (out / "partition.json").is_file() or (blocks and not started):
        from ghostmech.runs.dask_executor import run_blocks

        return run_blocks(config, out, networks_per_task=networks_per_task, client=client,
                          limit_gb=limit, progress=progress)  # fmt: skip
    check_memory(config, grid, limit_gb=limit)
    _dry_run(config, grid)
    if status == "new" or not (out / "progress.json").is_file():
        _start(out, config, grid)  # also redoes a start that was interrupted
    else:
        store.log(out, "resuming")
    total = grid.size * config.training.epochs * len(grid.parts)
    done = [grid.size * e for e in store.read_progress(out)["parts"].values()]
    counter = {"done": sum(done)}
    for index, part in enumerate(grid.parts):
        _run_part(out, config, grid, index, part, counter, total, progress, on_chunk)
    store.write_progress(out, {**store.read_progress(out), "finished": True})
    store.log(out, "finished")
    return store.open_run(out)


def _run_part(out, config, grid, index, part, counter, total, progress, on_chunk) -> None:
    label = "all" if part is None else str(part)
    tr = config.training
    if store.read_progress(out)["parts"].get(label) == tr.epochs:
        return
    task = make_task(config)
    batch = training_batch(config, task)
    states = initial_states(config, grid, part)
    state_file = store.part_dir(out / "state", part).with_suffix(".npz")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    if state_file.is_file():
        states = store.load_arrays(state_file, states)
    ckpt_dir = store.part_dir(out / "checkpoints", part)
    ckpts = checkpoint_epochs(config.checkpoints.spec(), tr.epochs)
    ckpts = ckpts if config.output.save_checkpoints else ()
    ivs, axes = make_interventions(config), _axes(grid)
    events = sorted({*ckpts, *(iv.epoch for iv in ivs), tr.epochs})
    executor, slots = EXECUTORS[choose_backend(config, grid, part)], min(tr.chunk, tr.epochs)
    part_index = None if grid.ranks is None else index
    e = int(states.epoch[0])
    while True:
        if e in ckpts:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            store.save_arrays(ckpt_dir / f"epoch_{e:09d}.npz", states.net)
        for iv in ivs:
            if iv.epoch == e:
                states = executor.apply(states, iv, axes)
        if e >= tr.epochs:
            break
        stop = min(next(x for x in events if x > e), e + slots)
        states, metrics = executor.run(states, task, batch, slots, stop - e)
        metrics = {k: v[:, : stop - e] for k, v in metrics.items()}
        status, nan_epoch = np.asarray(states.status), np.asarray(states.nan_epoch)
        store.write_metrics(out / "metrics.zarr", grid, part_index, e, metrics, status, nan_epoch)
        store.save_arrays(state_file, states)
        progress_now = store.read_progress(out)
        progress_now["parts"][label] = stop
        store.write_progress(out, progress_now)
        counter["done"] += grid.size * (stop - e)
        e = stop
        if progress is not None:
            progress(counter["done"], total)
        if on_chunk is not None:
            on_chunk(part, e)
    store.log(out, f"part {label} done: {tr.epochs} epochs, {int(np.sum(states.status))} diverged")
