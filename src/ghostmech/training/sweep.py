"""`sweep`: train a whole grid of networks (lrs × seeds × other axes) in memory.

Grid point (lr, seed, a₁, a₂, ...) trains ``build(k_build, a₁=..., ...)`` with
``k_build, k_train = split(key(seed))``: the same seed gives the same initial
network at every lr. Any axis works whose values keep shapes equal (β of the
readout, ``noise_std``, an intervention value ...); ``build`` receives the
values as (possibly traced) scalars.

Backends: the executors of `ghostmech.training.engine` (same per-network
function `ghostmech.training.step.run_chunk`):

* ``"vmap"``  one jitted program vmapped over groups of `vmap_width` networks (by size);
* ``"loop"``  the jitted one-network `train_chunk` for each network in turn
  (bit-identical to `fit` on that network);
* ``"kernel"`` the hand-derived rank-one DA kernel
  (`ghostmech.training.kernels.train_rank1_da_chunk`, same maths, own operation
  order; no accuracy: NaN) where `kernel_applies` (a ValueError otherwise);
* ``"auto"``  ``"kernel"`` where it applies, else ``"vmap"``.

The choice is made once for the whole grid; every executor runs one fixed
width, so a network's numbers do not depend on the rest of the grid, nor on
``processes`` (the grid cut into that many parts, each in its own process,
`ghostmech.training.engine.processes`). The back-ends agree to float32
rounding (vmapped matrix products may sum in another order). A non-finite
network stops alone (status 1); the others never see it.
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
from ghostmech.training.engine import (
    BACKENDS,
    MemorySink,
    choose_executor,
    concat,
    drive,
    kernel_applies,
    make_executor,
    make_schedule,
    stack,
)
from ghostmech.training.engine.processes import in_processes
from ghostmech.training.fit import resolve_batch
from ghostmech.training.interventions import Intervention
from ghostmech.training.state import OPTIMIZERS, init_state

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


def _init_states(nets, flat, optimizer, hyper):
    """The stacked `TrainState` of the grid points in ``flat`` (networks ``nets``)."""
    keys = jnp.stack([_split_seed(int(s))[1] for s in flat["seed"]])
    init = eqx.filter_vmap(
        lambda net, lr, key: init_state(net, optimizer=optimizer, lr=lr, key=key, **hyper)
    )
    return init(stack(nets), jnp.asarray(flat["lr"], jnp.float32), keys)


def _same(nets: list[Any], get) -> bool:
    values = [np.asarray(get(n)) for n in nets]
    return all(v.shape == values[0].shape and np.array_equal(v, values[0]) for v in values)


def _executor(backend, nets, task, data, optimizer, hyper, schedule) -> str:
    """The executor of the whole grid (decided once, before any split: `choose_executor`)."""
    if backend not in ("auto", "kernel"):
        return backend
    uniform = all(
        _same(nets, lambda n, f=f: f(n))
        for f in (
            lambda n: getattr(n.readout, "beta", np.nan),
            lambda n: getattr(n.readout, "theta", np.nan),
            lambda n: getattr(n, "noise_std", np.nan),
        )
    )
    ok = kernel_applies(nets[0], task, data, optimizer=optimizer,
                        interventions=schedule.interventions, hyper=hyper, uniform=uniform)  # fmt: skip
    return choose_executor(backend, applies=ok)


def _run_part(name, build, task, data, flat, axes, optimizer, hyper, schedule):
    """One executor on (part of) the grid; host arrays out: (net, status, nan_epoch, metrics, ckpts)."""
    states = _init_states(_build_all(build, flat, axes), flat, optimizer, hyper)
    sink = MemorySink()
    executor = make_executor(name, task, data, schedule.chunk, schedule.record_every)
    ax = {k: jnp.asarray(v) for k, v in axes.items()}
    states = drive(states, executor, schedule, sink, ax)
    host = jax.device_get((states.net, states.status, states.nan_epoch, sink.saved))
    return (*host[:3], sink.metrics(), host[3])


def _join(outs: list[tuple]) -> tuple:
    nets, status, nan_epoch, metrics, saved = zip(*outs, strict=True)
    return (
        concat(list(nets)),
        np.concatenate(status),
        np.concatenate(nan_epoch),
        {k: np.concatenate([m[k] for m in metrics]) for k in metrics[0]},
        {e: concat([c[e] for c in saved]) for e in saved[0]},
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
    backend in its own (spawned) process, threads pinned to one; ``build`` must
    then be picklable. The numbers do not depend on ``processes``.
    Returns a `SweepResult` whose arrays are shaped ``[lr, seed, *axes, ...]``.
    """
    check_one_of("backend", backend, BACKENDS)
    processes = check_positive_int("processes", processes)
    check_one_of("optimizer", optimizer, OPTIMIZERS)
    axes = dict(axes or {})
    schedule = make_schedule(epochs, chunk=chunk, checkpoints=checkpoints,
                             interventions=interventions, record_every=record_every)  # fmt: skip
    coords, flat = _grid(lrs, seeds, axes)
    data = resolve_batch(task, batch, dedupe_trials)
    grid_axes = {k: flat[k] for k in axes}
    name = _executor(backend, _build_all(build, flat, grid_axes), task, data, optimizer, hyper,
                     schedule)  # fmt: skip
    rest = (task, data)
    parts = [p for p in np.array_split(np.arange(len(flat["lr"])), processes) if p.size]
    jobs = [
        (name, build, *rest, {k: v[p] for k, v in flat.items()},
         {k: v[p] for k, v in grid_axes.items()}, optimizer, hyper, schedule)
        for p in parts
    ]  # fmt: skip
    if len(jobs) == 1:
        outs = [_run_part(*jobs[0])]
    else:
        done = dict(in_processes(_run_part, jobs, processes))
        outs = [done[i] for i in range(len(jobs))]
    net, status, nan_epoch, metrics, saved = _join(outs)
    shape = tuple(len(v) for v in coords.values())
    return SweepResult(
        metrics={k: v.reshape(shape + v.shape[1:]) for k, v in metrics.items()},
        params=_reshape(net, shape),
        checkpoints={e: _reshape(n, shape) for e, n in saved.items()},
        status=np.asarray(status).reshape(shape),
        nan_epoch=np.asarray(nan_epoch).reshape(shape),
        dims=(*coords, "epoch"),
        coords=coords,
        record_every=schedule.record_every,
    )
