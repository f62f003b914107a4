"""Blocks of networks as tasks: run in this process, or on a Dask cluster (`distributed`).

`run_blocks` trains a run's grid block by block (`ghostmech.runs.partition`).
Each block is one task, `train_block`, which follows the schedule of
`ghostmech.runs.run` for its networks alone:

1. at epoch e: save the checkpoint piece (if asked), apply the interventions;
2. train to the next event or ``training.chunk`` epochs (any `Executor`);
3. write that region of ``metrics.zarr``, then the block's state (atomically).

When every epoch is done it writes the block's done-marker, last. A task whose
marker exists returns at once; a task whose state exists continues from it, so a
task killed anywhere and run again (here or on another worker) writes the same
bits. The driver alone writes ``run.log`` and ``progress.json``; when every block
is done it joins the checkpoint pieces and marks the run finished.

Executors: ``client=None`` runs the tasks one after another in this process;
a ``distributed.Client`` submits them all and collects them with
``distributed.as_completed`` (a worker that dies loses its task to the
scheduler, which runs it again elsewhere). `open_client` makes one from
``--workers N`` (a `distributed.LocalCluster` of processes, 1 thread each) or
``--scheduler ADDRESS`` (an existing cluster, e.g. dask-jobqueue on SLURM).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive_int
from ghostmech.runs import partition as P
from ghostmech.runs import store
from ghostmech.runs.executors import EXECUTORS
from ghostmech.runs.grid import resolve_grid
from ghostmech.training import checkpoint_epochs

__all__ = ["run_blocks", "train_block", "open_client", "TaskFailedError"]


class TaskFailedError(RuntimeError):
    """A task could not be completed by the cluster (e.g. it killed every worker it ran on)."""


def _events(config: Any) -> tuple[tuple[int, ...], list[Any]]:
    from ghostmech.runs.run import make_interventions

    tr = config.training
    ckpts = checkpoint_epochs(config.checkpoints.spec(), tr.epochs)
    return (ckpts if config.output.save_checkpoints else ()), make_interventions(config)


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
    from ghostmech.runs import run as R

    out, block = Path(out), partition.get(part_index, index)
    done = P.read_marker(out, block)
    if done is not None:
        return done | {"skipped": True}
    t0, tr, grid = time.perf_counter(), config.training, resolve_grid(config)
    task = R.make_task(config)
    batch = R.training_batch(config, task)
    idx, n = partition.padded(block), block.indices.size
    states = R.initial_states(config, grid, block.part, idx)
    folder = P.block_dir(out, block)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "state.npz").is_file():
        states = store.load_arrays(folder / "state.npz", states)
    start = e = int(states.epoch[0])
    ckpts, ivs = _events(config)
    axes = {d: jnp.asarray(v[idx], jnp.float32) for d, v in grid.points().items() if d != "seed"}
    events = sorted({*ckpts, *(iv.epoch for iv in ivs), tr.epochs})
    executor = EXECUTORS[R.choose_backend(config, grid, block.part)]
    slots = min(tr.chunk, tr.epochs)
    while True:
        if e in ckpts:
            real = jax.tree.map(lambda x: x[:n], eqx.filter(states.net, eqx.is_array))
            store.save_arrays(folder / f"epoch_{e:09d}.npz", real)
        for iv in ivs:
            if iv.epoch == e:
                states = executor.apply(states, iv, axes)
        if e >= tr.epochs:
            break
        stop = min(next(x for x in events if x > e), e + slots)
        states, metrics = executor.run(states, task, batch, slots, stop - e)
        metrics = {k: v[:n, : stop - e] for k, v in metrics.items()}
        status, nan_epoch = np.asarray(states.status)[:n], np.asarray(states.nan_epoch)[:n]
        P.write_block_metrics(out / "metrics.zarr", partition, block, e, metrics, status, nan_epoch)
        store.save_arrays(folder / "state.npz", states)
        if report is not None:
            report(n * (stop - e))
        e = stop
    summary = {
        "block": block.label,
        "networks": n,
        "epochs": [start, tr.epochs],
        "diverged": int(np.sum(np.asarray(states.status)[:n])),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    P.write_marker(out, block, summary)
    return summary


def _describe(summary: dict[str, Any]) -> str:
    first, last = summary["epochs"]
    how = "trained epochs 0.." if first == 0 else f"resumed at epoch {first}, trained to "
    return (
        f"{summary['block']} done: {summary['networks']} networks, {summary['diverged']} "
        f"diverged ({how}{last}, {summary['seconds']} s)"
    )


def _in_process(config, out, partition, todo, report) -> Iterator[dict[str, Any]]:
    for b in todo:
        yield train_block(config, out, partition, b.part_index, b.index, report)


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
) -> store.Run:
    """Train (or resume) the config's grid into ``out`` as blocks of networks.

    A new run fixes its `Partition` (``networks_per_task``, else chosen from the
    memory limit) in ``partition.json``; a resumed run always uses that one.
    ``progress(done, total)`` counts network-epochs.
    """
    from ghostmech.runs import run as R

    out, grid = Path(out), resolve_grid(config)
    plan_file = out / "partition.json"
    if plan_file.is_file():
        partition = P.Partition.from_json(plan_file.read_text())
    else:
        partition = P.choose_partition(config, grid, networks_per_task, limit_gb=limit_gb)
    R._dry_run(config, grid)
    if not (out / "progress.json").is_file():
        R._start(out, config, grid, partition)
    else:
        store.log(out, "resuming")
    if networks_per_task is not None and networks_per_task != partition.networks_per_task:
        store.log(out, f"networks_per_task={networks_per_task} ignored: the run keeps its plan")
    blocks, epochs = partition.blocks(), config.training.epochs
    todo = [b for b in blocks if P.read_marker(out, b) is None]
    where = "in-process" if client is None else f"on Dask ({client.scheduler.address})"
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

    runs = (
        _in_process(config, out, partition, todo, report)
        if client is None
        else _on_dask(client, config, out, partition, todo)
    )
    for summary in runs:
        store.log(out, _describe(summary))
        finished += summary["networks"] * epochs
        counted["done"] = finished
        if progress is not None:
            progress(finished, total)
    ckpts, _ = _events(config)
    P.merge_checkpoints(out, partition, list(ckpts))
    store.write_progress(out, {**store.read_progress(out), "finished": True})
    store.log(out, "finished")
    return store.open_run(out)


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
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        yield client
