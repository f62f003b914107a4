"""Blocks of networks as tasks: in this process, in worker processes, or on Dask.

`run_blocks` trains a run's grid block by block (`ghostmech.runs.partition`).
Each block is one task, `train_block`: the engine's loop
(`ghostmech.training.engine.drive`) over its networks alone, with a sink that

1. at a checkpoint epoch saves the block's piece of the checkpoint;
2. after each chunk writes that region of ``metrics.zarr``, then the block's
   state (atomically).

When every epoch is done it writes the block's done-marker, last. A task whose
marker exists returns at once; a task whose state exists continues from it, so a
task killed anywhere and run again (here or on another worker) writes the same
bits. The driver alone writes ``run.log`` and ``progress.json``; when every block
is done it joins the checkpoint pieces and marks the run finished.

Where: ``processes`` (default: one per core, at most one per task) spawned
worker processes with one thread each (`ghostmech.training.engine.processes`;
``processes=1``: one after another in this process); or a ``distributed.Client``,
which gets them all and collects them with
``distributed.as_completed`` (a worker that dies loses its task to the
scheduler, which runs it again elsewhere). `open_client` makes one from
``--workers N`` (a `distributed.LocalCluster` of processes, 1 thread each) or
``--scheduler ADDRESS`` (an existing cluster, e.g. dask-jobqueue on SLURM).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ghostmech._checks import check_positive_int
from ghostmech.runs import factory, machine, store
from ghostmech.runs import partition as P
from ghostmech.runs.grid import resolve_grid
from ghostmech.training.engine import drive, first_epoch
from ghostmech.training.engine.processes import in_processes, pinned_env

__all__ = [
    "run_blocks",
    "train_block",
    "open_client",
    "TaskFailedError",
    "BlockSink",
    "first_order",
]


class TaskFailedError(RuntimeError):
    """A task could not be completed by the cluster (e.g. it killed every worker it ran on)."""


class BlockSink:
    """The engine's sink for one block: checkpoint pieces, metrics region, block state."""

    def __init__(self, out: Path, partition: P.Partition, block: P.Block, report=None):
        self.out, self.partition, self.block, self.report = out, partition, block, report
        self.folder = P.block_dir(out, block)

    def checkpoint(self, epoch: int, states: Any) -> None:
        store.save_arrays(self.folder / f"epoch_{epoch:09d}.npz", states.net)

    def chunk(self, start: int, stop: int, metrics: dict, states: Any) -> None:
        status, nan_epoch = np.asarray(states.status), np.asarray(states.nan_epoch)
        P.write_block_metrics(self.out / "metrics.zarr", self.partition, self.block, start,
                              metrics, status, nan_epoch)  # fmt: skip
        store.save_arrays(self.folder / "state.npz", states)
        store.write_text(P.epoch_file(self.out, self.block), str(stop))
        if self.report is not None:
            self.report(self.block.indices.size * (stop - start))


def train_block(
    config: Any,
    out: str | Path,
    partition: P.Partition,
    part_index: int,
    index: int,
    report: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train one block to the last epoch (resuming its saved state); return its summary.

    ``report(network_epochs)`` is called after each chunk (in-process progress).
    """
    out, block = Path(out), partition.get(part_index, index)
    done = P.read_marker(out, block)
    if done is not None:
        return done | {"skipped": True}
    t0, grid = time.perf_counter(), resolve_grid(config)
    task = factory.make_task(config)
    batch = factory.training_batch(config, task)
    states = factory.initial_states(config, grid, block.part, block.indices)
    sink = BlockSink(out, partition, block, report)
    sink.folder.mkdir(parents=True, exist_ok=True)
    if (sink.folder / "state.npz").is_file():
        states = store.load_arrays(sink.folder / "state.npz", states)
    start = first_epoch(states)
    machines = machine.record(sink.folder, start)
    executor = factory.executor(config, grid, block.part, task, batch)
    axes = factory.grid_axes(grid, block.indices)
    states = drive(states, executor, factory.schedule(config), sink, axes)
    summary = {
        "block": block.label,
        "networks": int(block.indices.size),
        "epochs": [start, config.training.epochs],
        "diverged": int(np.sum(np.asarray(states.status))),
        "seconds": round(time.perf_counter() - t0, 3),
        "machines": len(machines),
        "moved": machine.describe(machines),
    }
    P.write_marker(out, block, summary)
    return summary


def _describe(summary: dict[str, Any]) -> str:
    first, last = summary["epochs"]
    how = "trained epochs 0.." if first == 0 else f"resumed at epoch {first}, trained to "
    moved = summary.get("moved", "")  # `machine.describe`: empty on one machine
    return (
        f"{summary['block']} done: {summary['networks']} networks, {summary['diverged']} "
        f"diverged ({how}{last}, {summary['seconds']} s)" + (f"; WARNING: {moved}" if moved else "")
    )


def _in_process(config, out, partition, todo, report) -> Iterator[dict[str, Any]]:
    for b in todo:
        yield train_block(config, out, partition, b.part_index, b.index, report)


def _in_processes(config, out, partition, todo, processes, poll) -> Iterator[dict[str, Any]]:
    jobs = [(config, str(out), partition, b.part_index, b.index) for b in todo]
    for _, summary in in_processes(train_block, jobs, processes, on_wait=poll):
        yield summary


def _on_dask(client, config, out, partition, todo) -> Iterator[dict[str, Any]]:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    tag = uuid.uuid4().hex[:8]
    futures = [
        client.submit(
            train_block,
            config,
            str(out),
            partition,
            b.part_index,
            b.index,
            key=f"ghostmech-{b.label.replace('/', '-')}-{tag}",
        )  # fmt: skip
        for b in todo
    ]
    try:
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except KilledWorker as err:
                raise TaskFailedError(
                    f"a task of this sweep killed every worker it ran on ({err}); "
                    "what finished is kept: rerun the same command to continue"
                ) from None
    finally:
        client.cancel(futures)


def run_blocks(
    config: Any,
    out: str | Path,
    *,
    networks_per_task: int | None = None,
    client: Any = None,
    limit_gb: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
    first: Sequence[int | str] | None = None,
) -> store.Run:
    """Train (or resume) the config's grid into ``out`` as blocks of networks.

    A new run fixes its `Partition` (``networks_per_task``, else
    `ghostmech.runs.partition.default_networks_per_task`: one task per core) in
    ``partition.json``; a resumed run always uses that one. Without a ``client``
    the blocks run in ``processes`` worker processes (default
    `ghostmech.runs.partition.default_processes`: one per core, at most one per
    block, none for a small grid; 1: in this process). ``progress(done, total)`` counts
    network-epochs. ``first``: parts (``grid.rank`` values) whose blocks run before the
    others, in that order (e.g. the two ranks a figure compares, before the ones between);
    the run still trains every block. The numbers do not depend on the partition, on
    where the blocks run nor on their order.
    """
    out, grid = Path(out), resolve_grid(config)
    plan_file = out / "partition.json"
    if plan_file.is_file():
        partition = P.Partition.from_json(plan_file.read_text())
    else:
        partition = P.choose_partition(config, grid, networks_per_task, limit_gb=limit_gb)
    order = first_order(first, partition.parts) if first else {}
    factory.dry_run(config, grid)
    if not (out / "progress.json").is_file():
        store.start_run(out, config, grid, partition)
    else:
        store.log(out, "resuming")
    if networks_per_task is not None and networks_per_task != partition.networks_per_task:
        store.log(out, f"networks_per_task={networks_per_task} ignored: the run keeps its plan")
    blocks, epochs = partition.blocks(), config.training.epochs
    todo = [b for b in blocks if P.read_marker(out, b) is None]
    if order:
        todo.sort(key=lambda b: order.get(b.part, len(order)))  # stable: part order after them
        store.log(out, "parts first: " + ", ".join(str(p) for p in order))
    if processes is None:
        processes = P.default_processes(config, grid, len(todo))
    processes = min(check_positive_int("processes", processes), max(len(todo), 1))
    where = (
        f"on Dask ({client.scheduler.address})" if client is not None
        else "in-process" if processes == 1 else f"in {processes} processes"
    )  # fmt: skip
    store.log(out, f"{len(todo)} of {len(blocks)} blocks to run {where}, "
                   f"{partition.width} networks per task (block {partition.block})")  # fmt: skip
    if len(todo) < len(blocks):
        store.log(out, f"skipping {len(blocks) - len(todo)} finished blocks (markers present)")
    total = grid.size * epochs * len(grid.parts)
    waiting = {b.label for b in todo}
    counted = {"done": sum(b.indices.size for b in blocks if b.label not in waiting) * epochs}
    finished = counted["done"]

    def report(network_epochs: int) -> None:
        counted["done"] += network_epochs
        if progress is not None:
            progress(counted["done"], total)

    if client is not None:
        runs = _on_dask(client, config, out, partition, todo)
    elif processes > 1:

        def poll() -> None:  # the workers' chunks on disk, between finished blocks
            if progress is not None:
                running = sum(b.indices.size * P.read_epoch(out, b) for b in todo
                              if b.label in waiting)  # fmt: skip
                progress(finished + running, total)

        runs = _in_processes(config, out, partition, todo, processes, poll)
    else:
        runs = _in_process(config, out, partition, todo, report)
    for summary in runs:
        store.log(out, _describe(summary))
        waiting.discard(summary["block"])
        finished += summary["networks"] * epochs
        counted["done"] = finished
        if progress is not None:
            progress(finished, total)
    P.merge_checkpoints(out, partition, list(factory.schedule(config).checkpoints))
    store.write_progress(out, {**store.read_progress(out), "finished": True})
    store.log(out, "finished")
    return store.open_run(out)


def first_order(first: Sequence[int | str], parts: Sequence[Any]) -> dict[Any, int]:
    """``{part: position}`` of the parts named in ``first`` (matched as text: ``"100"`` or
    ``100``); a name that is not a part of the grid is an error naming ``first``."""
    if all(p is None for p in parts):
        raise ValueError("`first`: this grid has no rank parts (grid.rank), so there is "
                         "nothing to order")  # fmt: skip
    by_text = {str(p): p for p in parts}
    unknown = [str(f) for f in first if str(f) not in by_text]
    if unknown:
        raise ValueError(f"`first` (={', '.join(unknown)}): not a rank of this grid; its "
                         f"ranks are {', '.join(by_text)}")  # fmt: skip
    return {by_text[str(f)]: i for i, f in enumerate(dict.fromkeys(str(f) for f in first))}


@contextlib.contextmanager
def open_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """``None`` (in-process), a `LocalCluster` of ``workers`` processes, or ``scheduler``'s cluster."""
    if workers is not None and scheduler is not None:
        raise ValueError("--workers and --scheduler exclude each other: give one of them")
    if workers is None and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as err:
            raise ValueError(
                f"--scheduler (={scheduler!r}): cannot connect ({err}); it must be the "
                "address of a running Dask scheduler, e.g. tcp://host:8786"
            ) from None
        with client:
            yield client
        return
    workers = check_positive_int("workers", workers)
    with (
        pinned_env(),  # the worker processes inherit one-thread XLA / BLAS settings
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # the scheduler's HTTP server (/health, /metrics) starts even without a dashboard,
            # on port 8787 unless told; a second run on the machine then warns that the port
            # is taken. A free port of the loopback instead: runs side by side stay quiet
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            host="127.0.0.1",
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        yield client
