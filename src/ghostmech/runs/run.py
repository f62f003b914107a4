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

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ghostmech.runs import factory, machine, store
from ghostmech.runs.config import ExperimentConfig, config_from_dict
from ghostmech.runs.dask_executor import run_blocks
from ghostmech.runs.factory import initial_states, make_task, template_network  # noqa: F401
from ghostmech.runs.grid import Grid, resolve_grid
from ghostmech.runs.memory import check_memory
from ghostmech.training.engine import drive, first_epoch

__all__ = ["run_experiment", "dir_status", "RunDirError", "GridSink"]
# make_task, template_network, initial_states: re-exported for older callers
# (`ghostmech.runs.factory` is their home)


class RunDirError(ValueError):
    """The output directory holds something this run must not overwrite."""


def dir_status(out: Path, config: ExperimentConfig) -> str:
    """``"new"``, ``"resume"`` or ``"finished"``; raise `RunDirError` for a foreign directory."""
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


def run_experiment(
    config: ExperimentConfig,
    out: str | Path,
    *,
    memory_limit_gb: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_chunk: Callable[[Any, int], None] | None = None,
    networks_per_task: int | None = None,
    client: Any = None,
    processes: int | None = None,
    first: Sequence[int | str] | None = None,
) -> store.Run:
    """Train the config's grid into ``out``; resume it if ``out`` holds an unfinished run.

    ``progress(done, total)`` is called after each chunk with network-epochs;
    ``on_chunk(part, epoch)`` after each chunk is on disk (tests interrupt here).
    A finished run is left untouched; a directory of another config is refused.

    ``networks_per_task``, ``processes`` or a Dask ``client`` split the grid into
    blocks of networks (`ghostmech.runs.dask_executor`; ``processes``: worker
    processes, default one per core); a run started that way always resumes
    that way, with the blocks it started with. Without any of them the whole
    grid trains here, one part after another. The numbers are the same either way.
    ``first`` (blocked runs only): parts whose blocks run first (`run_blocks`).
    """
    out = Path(out)
    grid = resolve_grid(config)
    status = dir_status(out, config)
    if status == "finished":
        store.log(out, "rerun of a finished run: nothing to do")
        return store.open_run(out)
    limit = memory_limit_gb if memory_limit_gb is not None else config.output.memory_limit_gb
    blocks = networks_per_task is not None or client is not None or processes is not None
    started = (out / "progress.json").is_file()  # else a start was cut short: redo it
    if (out / "partition.json").is_file() or (blocks and not started):
        return run_blocks(config, out, networks_per_task=networks_per_task, client=client,
                          limit_gb=limit, progress=progress, processes=processes,
                          first=first)  # fmt: skip
    if first:
        raise ValueError("`first` orders the blocks of a blocked run; this run trains its "
                         "parts in order (start it with networks_per_task or processes)")  # fmt: skip
    check_memory(config, grid, limit_gb=limit)
    factory.dry_run(config, grid)
    if status == "new" or not (out / "progress.json").is_file():
        store.start_run(out, config, grid)  # also redoes a start that was interrupted
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


class GridSink:
    """The engine's sink for one part (rank) of the whole grid: checkpoint files,
    the part's region of ``metrics.zarr``, its state file, then ``progress.json``."""

    def __init__(self, out: Path, grid: Grid, index: int, part: Any, on_chunk=None, report=None):
        self.out, self.grid, self.part, self.on_chunk, self.report = (
            out,
            grid,
            part,
            on_chunk,
            report,
        )
        self.rank = None if grid.ranks is None else index
        self.label = "all" if part is None else str(part)
        self.state_file = store.part_dir(out / "state", part).with_suffix(".npz")
        self.ckpt_dir = store.part_dir(out / "checkpoints", part)

    def checkpoint(self, epoch: int, states: Any) -> None:
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        store.save_arrays(self.ckpt_dir / f"epoch_{epoch:09d}.npz", states.net)

    def chunk(self, start: int, stop: int, metrics: dict, states: Any) -> None:
        full = tuple(slice(0, n) for n in self.grid.shape)
        store.write_metrics(self.out / "metrics.zarr", self.grid.dims, full, self.rank, start,
                            metrics, np.asarray(states.status), np.asarray(states.nan_epoch))  # fmt: skip
        store.save_arrays(self.state_file, states)
        progress = store.read_progress(self.out)
        progress["parts"][self.label] = stop
        store.write_progress(self.out, progress)
        if self.report is not None:
            self.report(self.grid.size * (stop - start))
        if self.on_chunk is not None:
            self.on_chunk(self.part, stop)


def _run_part(out, config, grid, index, part, counter, total, progress, on_chunk) -> None:
    label = "all" if part is None else str(part)
    if store.read_progress(out)["parts"].get(label) == config.training.epochs:
        return
    task = factory.make_task(config)
    batch = factory.training_batch(config, task)
    states = factory.initial_states(config, grid, part)

    def report(network_epochs: int) -> None:
        counter["done"] += network_epochs
        if progress is not None:
            progress(counter["done"], total)

    sink = GridSink(out, grid, index, part, on_chunk, report)
    sink.state_file.parent.mkdir(parents=True, exist_ok=True)
    if sink.state_file.is_file():
        states = store.load_arrays(sink.state_file, states)
    machines = machine.record(sink.state_file.parent, first_epoch(states))
    executor = factory.executor(config, grid, part, task, batch)
    states = drive(states, executor, factory.schedule(config), sink, factory.grid_axes(grid))
    n_div = int(np.sum(np.asarray(states.status)))
    moved = machine.describe(machines)
    store.log(out, f"part {label} done: {config.training.epochs} epochs, {n_div} diverged"
                   + (f"; WARNING: {moved}" if moved else ""))  # fmt: skip
