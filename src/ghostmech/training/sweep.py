"""`sweep`: train a whole grid of networks (lrs × seeds × other axes) as one program.

Grid point (lr, seed, a₁, a₂, ...) trains ``build(k_build, a₁=..., ...)`` with
``k_build, k_train = split(key(seed))``: the same seed gives the same initial
network at every lr. Any axis works whose values keep shapes equal (β of the
readout, ``noise_std``, an intervention value ...); ``build`` receives the
values as (possibly traced) scalars.

Backends (same per-network function `ghostmech.training.step.run_chunk`):

* ``"vmap"``  one jitted program, vmapped over the G networks of the grid;
* ``"loop"``  the jitted one-network `train_chunk` called for each network in
  turn (bit-identical to `fit` on that network, except a σ = 0 network in a
  grid with some σ ≠ 0: it then runs the noisy program, like ``"vmap"``);
* ``"kernel"`` the hand-derived rank-one DA kernel
  (`ghostmech.training.kernels.train_rank1_da_grid`, same maths, own operation
  order; no accuracy: NaN) where `_kernel_applies` (a ValueError otherwise);
* ``"auto"``  ``"kernel"`` where it applies, else ``"vmap"``.

Any can run on parts of the grid in several processes (``processes=2``).
Another kernel can be registered in `BACKENDS` under a new name (signature of
`_vmap_backend`).

They agree to float32 rounding (vmapped matrix products may sum in another
order). A non-finite network stops alone (status 1); the others never see it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_one_of, check_positive, check_positive_int
from ghostmech.training import kernels
from ghostmech.training.fit import check_schedule, drive, resolve_batch
from ghostmech.training.interventions import Intervention
from ghostmech.training.state import OPTIMIZERS, init_state
from ghostmech.training.step import has_noise, recorded_slots, run_chunk, train_chunk

__all__ = ["SweepResult", "sweep", "BACKENDS"]


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Outcome of `sweep`; every array has the grid's leading axes ``dims[:-1]``.

    ``metrics[name]``: ``[lr, seed, *axes, epoch]``; ``params``: the final networks
    stacked (each array leaf ``[lr, seed, *axes, ...]``); ``checkpoints``:
    ``{epoch: stacked networks}``; ``status`` / ``nan_epoch``: ``[lr, seed, *axes]``
    (0 ok / 1 diverged; −1 = never); ``coords``: the values along each grid axis;
    ``record_every``: the metrics hold epochs 0, k, 2k, ... (k = ``record_every``).
    """

    metrics: dict[str, np.ndarray]
    params: Any
    checkpoints: dict[int, Any]
    status: np.ndarray
    nan_epoch: np.ndarray
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    record_every: int = 1


def _grid(lrs, seeds, axes: Mapping[str, Sequence[float]]):
    lrs = [check_positive(f"lrs[{i}]", v) for i, v in enumerate(lrs)]
    seeds = [int(s) for s in seeds]
    if not lrs or not seeds:
        raise ValueError(f"`lrs` (={lrs!r}) and `seeds` (={seeds!r}) must be non-empty")
    for name, values in axes.items():
        if name in ("lr", "seed", "epoch") or not len(values):
            raise ValueError(f"`axes[{name!r}]` must be a non-empty axis not named lr/seed/epoch")
    coords = {"lr": np.asarray(lrs), "seed": np.asarray(seeds)}
    coords |= {k: np.asarray(v) for k, v in axes.items()}
    points = list(itertools.product(*coords.values()))
    flat = {k: np.asarray([p[i] for p in points]) for i, k in enumerate(coords)}
    return coords, flat


def _split_seed(seed: int):
    return jax.random.split(jax.random.key(seed))


def _build_all(build, flat, axes: Mapping[str, np.ndarray]) -> list[Any]:
    """One network per grid point, built eagerly (builders need not be traceable)."""
    nets = []
    for g, seed in enumerate(flat["seed"]):
        k_build, _ = _split_seed(int(seed))
        nets.append(build(k_build, **{k: v[g].item() for k, v in axes.items()}))
    return nets


def _stack(trees: list[Any]) -> Any:
    """Stack the array leaves of equally-shaped pytrees; other leaves from the first."""
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *arrays)
    return eqx.combine(stacked, eqx.filter(trees[0], eqx.is_array, inverse=True))


def _init_states(build, flat, axes, optimizer, hyper):
    """The stacked `TrainState` of the grid points in ``flat``."""
    nets = _stack(_build_all(build, flat, axes))
    keys = jnp.stack([_split_seed(int(s))[1] for s in flat["seed"]])
    init = eqx.filter_vmap(
        lambda net, lr, key: init_state(net, optimizer=optimizer, lr=lr, key=key, **hyper)
    )
    return init(nets, jnp.asarray(flat["lr"], jnp.float32), keys)


def _drive_stacked(state, axes, schedule, run):
    ax = {k: jnp.asarray(v) for k, v in axes.items()}
    return drive(
        state,
        run=run,
        apply=lambda s, iv: eqx.filter_vmap(lambda s_, a_: iv.apply(s_, a_))(s, ax),
        snapshot=lambda s: s.net,
        **schedule,
    )


def _vmap_run(task, data, schedule):
    chunk, every = schedule["chunk"], schedule["record_every"]
    # `has_noise` per chunk: concrete σ of the grid (an intervention may change it)
    return lambda s, n: _vrun(s, task, data, chunk, jnp.asarray(n, jnp.int32), has_noise(s), every)


def _vmap_backend(build, task, data, flat, axes, optimizer, hyper, schedule):
    state = _init_states(build, flat, axes, optimizer, hyper)
    return _drive_stacked(state, axes, schedule, _vmap_run(task, data, schedule))


_vrun = eqx.filter_jit(
    eqx.filter_vmap(run_chunk, in_axes=(eqx.if_array(0), None, None, None, None, None, None))
)


def _loop_backend(build, task, data, flat, axes, optimizer, hyper, schedule):
    outs = []
    chunk, every = schedule["chunk"], schedule["record_every"]
    nets = _build_all(build, flat, axes)
    # the vmapped program draws noise for all networks if any has σ ≠ 0: do the same
    grid_noisy = any(bool(np.any(np.asarray(getattr(n, "noise_std", 1.0)) != 0)) for n in nets)
    for g, net in enumerate(nets):
        ax = {k: jnp.asarray(v[g]) for k, v in axes.items()}
        key = _split_seed(int(flat["seed"][g]))[1]
        state = init_state(net, optimizer=optimizer, lr=float(flat["lr"][g]), key=key, **hyper)
        outs.append(
            drive(
                state,
                run=lambda s, n: train_chunk(
                    s,
                    task,
                    chunk,
                    batch=data,
                    n_active=n,
                    record_every=every,
                    noisy=grid_noisy or has_noise(s),
                ),  # fmt: skip
                apply=lambda s, iv, ax=ax: iv.apply(s, ax),
                snapshot=lambda s: s.net,
                **schedule,
            )
        )
    state = _stack([o[0] for o in outs])
    metrics = {k: np.stack([o[1][k] for o in outs]) for k in outs[0][1]}
    saved = {e: _stack([o[2][e] for o in outs]) for e in outs[0][2]}
    return state, metrics, saved


def _kernel_applies(state, task, data, optimizer, interventions) -> bool:
    """`kernels.applies` to the grid: also one β and κ_θ, σ = 0 for all, the full DA batch."""
    net = state.net
    if state.clipped:  # the kernel runs plain SGD
        return False
    template = jax.tree.map(lambda x: x[0] if eqx.is_array(x) else x, net)
    if not kernels.applies(template, task, optimizer=optimizer, interventions=interventions):
        return False
    if not hasattr(data, "inputs") or has_noise(state):
        return False
    ref = task.all_trials()
    same = all(
        np.array_equal(np.asarray(a), np.broadcast_to(np.asarray(b)[:, :1], np.shape(a)))
        for a, b in ((data.inputs, ref.inputs), (data.targets, ref.targets), (data.mask, ref.mask))
    )
    readout = (np.asarray(net.readout.beta), np.asarray(net.readout.theta))
    return same and all(np.unique(x).size == 1 for x in readout)


_KERNEL_METRICS = ("loss", "grad_norm")  # the kernel reports no accuracy


def _kernel_run(task, schedule):
    """``run(state, n)`` of `drive` through `kernels.train_rank1_da_grid` (as runs' executor)."""
    every = schedule["record_every"]

    def run(state, n):
        net, alive = state.net, np.asarray(state.status) == 0
        lr = np.where(alive, np.asarray(state.opt_state.hyperparams["learning_rate"]), 0.0)
        params, met = kernels.train_rank1_da_grid(
            net.m[..., 0], net.nT[..., 0], net.b, jnp.asarray(lr, net.m.dtype), epochs=n,
            chunk=schedule["chunk"], beta=float(np.asarray(net.readout.beta).flat[0]),
            theta=float(np.asarray(net.readout.theta).flat[0]), alpha=net.alpha, r0=net.r0,
            delay=task.delay, response=task.response,
        )  # fmt: skip
        died = alive & (met["status"] != 0)
        e0 = int(np.asarray(state.epoch).flat[0])
        state = eqx.tree_at(
            lambda s: (s.params.m, s.params.nT, s.params.b, s.epoch, s.status, s.nan_epoch),
            state,
            (
                params["m"][..., None],
                params["n"][..., None],
                params["b"],
                state.epoch + n,
                jnp.where(died, 1, state.status),
                jnp.where(died, state.epoch + met["nan_epoch"], state.nan_epoch),
            ),
        )
        offset = recorded_slots(e0, n, every)[0]
        out = {
            k: np.where(alive[:, None], met[k], np.nan)[:, offset::every] for k in _KERNEL_METRICS
        }
        return state, out | {"accuracy": np.full_like(out["loss"], np.nan)}

    return run


def _kernel_backend(build, task, data, flat, axes, optimizer, hyper, schedule, *, auto=False):
    state = _init_states(build, flat, axes, optimizer, hyper)
    ok = not hyper and _kernel_applies(state, task, data, optimizer, schedule["interventions"])
    if not ok and not auto:
        raise ValueError(
            "backend (='kernel') needs rank-1 networks with the threshold readout (one β, κ_θ) "
            "on DA with batch 'all', SGD, no noise and no interventions; use 'auto' or 'vmap'"
        )
    run = _kernel_run(task, schedule) if ok else _vmap_run(task, data, schedule)
    return _drive_stacked(state, axes, schedule, run)


def _auto_backend(*args):
    return _kernel_backend(*args, auto=True)


BACKENDS: dict[str, Callable[..., Any]] = {
    "vmap": _vmap_backend,
    "loop": _loop_backend,
    "kernel": _kernel_backend,
    "auto": _auto_backend,
}


def _run_part(backend, build, task, data, flat, axes, optimizer, hyper, schedule):
    """One backend on (part of) the grid; host arrays out: (net, status, nan_epoch, metrics, ckpts)."""
    state, metrics, saved = BACKENDS[backend](
        build, task, data, flat, axes, optimizer, hyper, schedule
    )
    host = jax.device_get((state.net, state.status, state.nan_epoch, saved))
    return (*host[:3], metrics, host[3])


def _child_env() -> None:  # pragma: no cover - runs in the worker processes
    import os

    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # share one accelerator


def _concat(trees: list[Any]) -> Any:
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    joined = jax.tree.map(lambda *xs: np.concatenate(xs), *arrays)
    return eqx.combine(joined, eqx.filter(trees[0], eqx.is_array, inverse=True))


def _in_processes(processes: int, *args) -> tuple:
    """Split the grid into ``processes`` contiguous parts, one spawned process each."""
    import concurrent.futures
    import multiprocessing
    import pickle

    backend, build, task, data, flat, axes, *rest = args
    try:
        pickle.dumps((build, task, data, rest))
    except Exception as err:
        raise ValueError(
            f"`build` (={build!r}) and the other arguments must be picklable for "
            f"processes={processes} (use a module-level function): {err}"
        ) from None
    parts = np.array_split(np.arange(len(flat["lr"])), processes)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, ctx, initializer=_child_env) as pool:
        futures = [
            pool.submit(
                _run_part,
                backend,
                build,
                task,
                data,
                {k: v[idx] for k, v in flat.items()},
                {k: v[idx] for k, v in axes.items()},
                *rest,
            )  # fmt: skip
            for idx in parts
            if idx.size
        ]
        outs = [f.result() for f in futures]
    nets, status, nan_epoch, metrics, saved = zip(*outs, strict=True)
    return (
        _concat(list(nets)),
        np.concatenate(status),
        np.concatenate(nan_epoch),
        {k: np.concatenate([m[k] for m in metrics]) for k in metrics[0]},
        {e: _concat([c[e] for c in saved]) for e in saved[0]},
    )


def _reshape(tree: Any, shape: tuple[int, ...]) -> Any:
    return jax.tree.map(lambda x: x.reshape(shape + x.shape[1:]) if eqx.is_array(x) else x, tree)


def sweep(
    build: Callable[..., Any],
    task: Any,
    *,
    lrs: Sequence[float],
    seeds: Sequence[int],
    epochs: int,
    axes: Mapping[str, Sequence[float]] | None = None,
    optimizer: str = "sgd",
    batch: Any = "all",
    backend: str = "vmap",
    checkpoints: Any = None,
    interventions: Sequence[Intervention] = (),
    chunk: int = 1000,
    processes: int = 1,
    record_every: int = 1,
    dedupe_trials: bool = True,
    **hyper: Any,
) -> SweepResult:
    """Train every network of the grid ``lrs × seeds × axes`` for ``epochs`` epochs.

    ``build(key, **axis_values) -> RateRNN``; other arguments as in `fit`
    (``record_every = k``: metrics of epochs 0, k, 2k, ... only, subsampled).
    ``backend``: see the module docstring (``"auto"``: the rank-one DA kernel
    where it computes the same training, else ``"vmap"``).
    ``dedupe_trials``: as in `fit` (identical trials run once while σ = 0).
    ``processes > 1`` splits the grid into that many parts, each trained by the
    backend in its own (spawned) process; ``build`` must then be picklable.
    Returns a `SweepResult` whose arrays are shaped ``[lr, seed, *axes, ...]``.
    """
    check_one_of("backend", backend, BACKENDS)
    processes = check_positive_int("processes", processes)
    check_one_of("optimizer", optimizer, OPTIMIZERS)
    axes = dict(axes or {})
    epochs, ckpts = check_schedule(epochs, checkpoints, interventions)
    coords, flat = _grid(lrs, seeds, axes)
    schedule = {
        "epochs": epochs,
        "chunk": min(check_positive_int("chunk", chunk), epochs),
        "checkpoints": ckpts,
        "interventions": tuple(interventions),
        "record_every": check_positive_int("record_every", record_every),
    }
    data = resolve_batch(task, batch, dedupe_trials)
    args = (
        backend,
        build,
        task,
        data,
        flat,
        {k: flat[k] for k in axes},
        optimizer,
        hyper,
        schedule,
    )
    if processes == 1:
        net, status, nan_epoch, metrics, saved = _run_part(*args)
    else:
        net, status, nan_epoch, metrics, saved = _in_processes(processes, *args)
    shape = tuple(len(v) for v in coords.values())
    return SweepResult(
        metrics={k: v.reshape(shape + v.shape[1:]) for k, v in metrics.items()},
        params=_reshape(net, shape),
        checkpoints={e: _reshape(n, shape) for e, n in saved.items()},
        status=np.asarray(status).reshape(shape),
        nan_epoch=np.asarray(nan_epoch).reshape(shape),
        dims=(*coords, "epoch"),
        coords=coords,
        record_every=schedule["record_every"],
    )
