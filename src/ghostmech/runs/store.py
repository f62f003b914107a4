"""The files of a run directory, and `open_run` to read them back.

::

    RUN/
      config.toml            the resolved config (what was run)
      metrics.zarr/          xarray Dataset: loss, grad_norm, accuracy [rank?, lr, seed, ..., epoch],
                             status, nan_epoch [rank?, lr, seed, ...]
      checkpoints/[rank_K/]epoch_000001000.npz   the networks after that many updates, stacked
      state/[rank_K].npz     the TrainState of the grid after the last finished chunk
      progress.json          {"parts": {label: epochs done}, "finished": bool}
      run.log

Every file is written atomically (to a temporary name, then ``os.replace``),
and metrics are written as a region of the pre-allocated zarr store, so an
interrupted run leaves a consistent directory to resume from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import dask.array
import equinox as eqx
import jax
import numpy as np
import xarray as xr

import ghostmech
from ghostmech.runs.config import ExperimentConfig, config_from_dict
from ghostmech.runs.factory import template_network
from ghostmech.runs.grid import FULL_RANK, Grid, rank_label, resolve_grid

__all__ = [
    "Run",
    "open_run",
    "METRIC_ATTRS",
    "atomic_write",
    "write_text",
    "save_arrays",
    "load_arrays",
    "start_run",
    "write_metrics",
]

METRIC_ATTRS = {
    "loss": {"units": "1", "long_name": "training loss at the parameters before the update"},
    "grad_norm": {"units": "1", "long_name": "global L2 norm of the loss gradient"},
    "accuracy": {"units": "fraction", "long_name": "task accuracy (docs/theory.md), mask-weighted"},
}
COORD_ATTRS = {
    "lr": {"units": "1", "long_name": "learning rate"},
    "seed": {"units": "1", "long_name": "seed of the initial network and of the noise"},
    "epoch": {"units": "updates", "long_name": "parameter updates done before this one"},
    "beta": {"units": "1", "long_name": "readout confidence β"},
    "noise_std": {"units": "1", "long_name": "recurrent noise s.d. σ"},
    "rank": {"units": "1", "long_name": f"rank K of W = M Nᵀ ({FULL_RANK} = full rank)"},
}


def atomic_write(path: Path, write) -> None:
    """``write(tmp)``, then ``os.replace(tmp, path)``; the tmp name is unique to this writer
    (two processes may write the same file at once) and is removed if the write fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda p: p.write_text(text))


def save_arrays(path: Path, tree: Any) -> None:
    """Save the array leaves of ``tree`` (typed PRNG keys as their key data) atomically."""
    leaves = jax.tree.leaves(eqx.filter(tree, eqx.is_array))
    arrays = {
        f"leaf_{i:04d}": np.asarray(
            jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        )
        for i, x in enumerate(leaves)
    }

    def write(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, **arrays)

    atomic_write(path, write)


def load_arrays(path: Path, template: Any) -> Any:
    """Inverse of `save_arrays`: ``template`` with its array leaves replaced by the saved ones."""
    arrays, static = eqx.partition(template, eqx.is_array)
    leaves, treedef = jax.tree.flatten(arrays)
    with np.load(path) as data:
        saved = [data[f"leaf_{i:04d}"] for i in range(len(leaves))]
    new = []
    for old, arr in zip(leaves, saved, strict=True):
        if jax.dtypes.issubdtype(old.dtype, jax.dtypes.prng_key):
            new.append(jax.random.wrap_key_data(arr, impl=jax.random.key_impl(old)))
        else:
            new.append(jax.numpy.asarray(arr, dtype=old.dtype))
    return eqx.combine(jax.tree.unflatten(treedef, new), static)


def part_dir(root: Path, part: int | str | None) -> Path:
    return root if part is None else root / f"rank_{part}"


def empty_metrics(config: ExperimentConfig, grid: Grid, attrs: dict[str, Any]) -> xr.Dataset:
    """The metrics Dataset of a run, filled with NaN (status 0, nan_epoch -1).

    The per-epoch metrics are lazy (dask) arrays: `create_metrics` writes only their
    metadata, and a chunk never written reads back as the fill value, NaN.
    """
    epochs = config.training.epochs
    lead = {} if grid.ranks is None else {"rank": [rank_label(r) for r in grid.ranks]}
    coords = {**lead, **grid.coords, "epoch": np.arange(epochs, dtype=np.int64)}
    dims = tuple(coords)
    shape = tuple(len(v) for v in coords.values())
    nan = dask.array.full(shape, np.nan, dtype=np.float32)  # lazy: never held in memory
    data = {k: (dims, nan, METRIC_ATTRS[k]) for k in METRIC_ATTRS}
    data["status"] = (dims[:-1], np.zeros(shape[:-1], np.int8), {"flag_values": [0, 1],
                      "flag_meanings": "ok diverged"})  # fmt: skip
    data["nan_epoch"] = (dims[:-1], np.full(shape[:-1], -1, np.int64),
                         {"long_name": "epoch whose loss or gradient was non-finite (-1: none)"})  # fmt: skip
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for name, a in COORD_ATTRS.items():
        if name in ds.coords:
            ds[name].attrs.update(a)
    return ds


def create_metrics(
    path: Path, ds: xr.Dataset, chunk: int, block: tuple[int, ...] | None = None
) -> None:
    """Allocate ``metrics.zarr`` (chunked along epoch by ``chunk``).

    ``block`` (a block shape of `ghostmech.runs.partition`) chunks the grid dims
    too, so blocks of networks write disjoint zarr chunks; else one chunk spans the grid.
    """
    grid_chunks = tuple(ds.sizes[d] for d in ds["loss"].dims[:-1])
    if block is not None:
        grid_chunks = (1,) * (len(grid_chunks) - len(block)) + tuple(block)
    enc = {k: {"chunks": (*grid_chunks, min(chunk, ds.sizes["epoch"]))} for k in METRIC_ATTRS}
    if block is not None:
        enc |= {k: {"chunks": grid_chunks} for k in ("status", "nan_epoch")}
    ds = ds.assign({k: ds[k].chunk(dict(zip(ds[k].dims, enc[k]["chunks"], strict=True)))
                    for k in METRIC_ATTRS})  # fmt: skip
    ds.to_zarr(path, mode="w", consolidated=False, encoding=enc, compute=False)


def write_metrics(
    path: Path,
    dims: tuple[str, ...],
    slices: tuple[slice, ...],
    rank: int | None,
    start: int,
    metrics: dict[str, np.ndarray],
    status: np.ndarray,
    nan_epoch: np.ndarray,
) -> None:
    """Write epochs ``[start, start + n)`` of the region ``slices`` (one per grid dim in
    ``dims``) of rank index ``rank`` (None: no rank axis): THE writer of ``metrics.zarr``.

    ``metrics[k]`` is ``[networks of the region (C order), n]``.
    """
    lead = () if rank is None else ("rank",)
    full_dims, pre = (*lead, *dims), (1,) * len(lead)
    shape = tuple(s.stop - s.start for s in slices)
    n = next(iter(metrics.values())).shape[-1]
    data = {
        k: ((*full_dims, "epoch"), np.asarray(v, np.float32).reshape(*pre, *shape, n))
        for k, v in metrics.items()
    }
    data["status"] = (full_dims, np.asarray(status, np.int8).reshape(*pre, *shape))
    data["nan_epoch"] = (full_dims, np.asarray(nan_epoch, np.int64).reshape(*pre, *shape))
    region = dict(zip(dims, slices, strict=True)) | {"epoch": slice(start, start + n)}
    if rank is not None:
        region["rank"] = slice(rank, rank + 1)
    xr.Dataset(data).to_zarr(path, region=region, consolidated=False)


def start_run(out: Path, config: ExperimentConfig, grid: Grid, partition: Any = None) -> None:
    """Claim ``out`` for a new run: config.toml first, progress.json last (the store is ready).

    With a `ghostmech.runs.partition.Partition`, the store is chunked by its blocks
    and the plan is saved as ``partition.json`` (a resumed run keeps it).
    """
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.toml", config.to_toml())
    attrs = {"ghostmech_version": ghostmech.__version__, "jax_version": jax.__version__}
    attrs |= {"name": config.name, "description": config.description}
    ds = empty_metrics(config, grid, attrs)
    block = None if partition is None else partition.block
    create_metrics(out / "metrics.zarr", ds, config.training.chunk, block)
    if partition is not None:
        write_text(out / "partition.json", partition.to_json())
    write_progress(out, {"parts": {}, "finished": False})
    log(out, f"started {config.name}: grid {dict(zip(grid.dims, grid.shape, strict=True))}")


_TEMPLATES: dict[tuple[str, Any], Any] = {}  # (config, part) -> network structure


@dataclasses.dataclass(frozen=True)
class Run:
    """A run directory read back: config, metrics (xarray), checkpoints, status.

    ``status`` is ``"finished"`` or ``"incomplete"`` (interrupted; rerun the
    same command to continue).
    """

    path: Path
    config: ExperimentConfig
    grid: Grid
    status: str

    @property
    def metrics(self) -> xr.Dataset:
        """Per-epoch metrics as an xarray Dataset (read from disk lazily, no dask)."""
        return xr.open_zarr(self.path / "metrics.zarr", consolidated=False, chunks=None)

    def checkpoint_epochs(self, rank: int | str | None = None) -> list[int]:
        folder = part_dir(self.path / "checkpoints", self._part(rank))
        return sorted(int(p.stem.split("_")[1]) for p in folder.glob("epoch_*.npz"))

    def _part(self, rank: int | str | None) -> int | str | None:
        if self.grid.ranks is None:
            if rank is not None:
                raise ValueError(f"`rank` (={rank!r}): this run has no rank axis")
            return None
        labels = {rank_label(r): r for r in self.grid.ranks}
        if rank is None or rank_label(rank) not in labels:
            raise ValueError(f"`rank` (={rank!r}) must be one of: {list(self.grid.ranks)}")
        return labels[rank_label(rank)]

    def checkpoint(self, epoch: int, *, rank: int | str | None = None, **point: Any) -> Any:
        """The network(s) after ``epoch`` updates.

        With a grid point (``lr=..., seed=...``): that one `RateRNN`. Without: the
        whole grid stacked, each array with leading dims ``grid.shape``.
        """
        part = self._part(rank)
        file = part_dir(self.path / "checkpoints", part) / f"epoch_{epoch:09d}.npz"
        if not file.is_file():
            have = self.checkpoint_epochs(rank)
            raise ValueError(f"`epoch` (={epoch}) has no checkpoint; saved epochs: {have}")
        key = (self.config.to_toml(), part)
        if key not in _TEMPLATES:
            _TEMPLATES[key] = template_network(self.config, part)
        template = _TEMPLATES[key]
        stacked = jax.tree.map(
            lambda x: np.zeros((self.grid.size, *x.shape), x.dtype),
            eqx.filter(template, eqx.is_array),
        )
        nets = load_arrays(
            file, eqx.combine(stacked, eqx.filter(template, eqx.is_array, inverse=True))
        )
        if point:
            g = self.grid.index(**point)
            return jax.tree.map(lambda x: x[g], nets)
        return jax.tree.map(lambda x: x.reshape(*self.grid.shape, *x.shape[1:]), nets)


def read_progress(path: Path) -> dict[str, Any]:
    file = path / "progress.json"
    return json.loads(file.read_text()) if file.is_file() else {"parts": {}, "finished": False}


def write_progress(path: Path, progress: dict[str, Any]) -> None:
    write_text(path / "progress.json", json.dumps(progress, indent=1))


def log(path: Path, message: str) -> None:
    """Append one time-stamped line to ``run.log``."""
    with open(path / "run.log", "a") as fh:
        fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")


def open_run(path: str | Path) -> Run:
    """Read a run directory written by `run_experiment` (``ghostmech train`` / ``sweep``)."""
    import tomllib

    path = Path(path)
    if not (path / "config.toml").is_file():
        raise FileNotFoundError(f"{str(path)!r} is not a run directory (no config.toml)")
    config = config_from_dict(tomllib.loads((path / "config.toml").read_text()), source=str(path))
    status = "finished" if read_progress(path).get("finished") else "incomplete"
    return Run(path=path, config=config, grid=resolve_grid(config), status=status)
