"""Split a run's grid into blocks of networks: the unit of work, of writing and of resume.

A block is a rectangle of the grid (a slice along each dim, one rank part), so
its metrics are one region of ``metrics.zarr`` whose zarr chunks belong to that
block only: blocks never write the same file, and can be written by different
processes at once. The block shape is greedy from the last dim: whole trailing
dims while they fit in ``networks_per_task``, then an even split of the next
dim, 1 along the leading ones. E.g. 30 lr × 10 seeds at 64 per task gives
blocks of 6 × 10 (5 blocks).

Whatever the block shape, every network trains in a compiled program of the
same fixed width (`ghostmech.training.engine.executors`: groups of that width,
padded), so its bits depend neither on its block nor on who runs it. The
default (`default_networks_per_task`) is one task per core.

On disk (next to the files of `ghostmech.runs.store`)::

    RUN/partition.json                     the plan (fixed when the run starts)
    RUN/blocks/[rank_K/]block_0003/        state.npz and checkpoint pieces epoch_*.npz
    RUN/blocks/[rank_K/]block_0003.epoch   epochs on disk (progress of a running block)
    RUN/blocks/[rank_K/]block_0003.done    JSON marker, written last (tmp + os.replace)
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ghostmech._checks import check_positive_int
from ghostmech.runs.factory import executor_name, template_network
from ghostmech.runs.grid import Grid
from ghostmech.runs.memory import (
    GIB,
    MemoryLimitError,
    available_gb,
    check_memory,
    estimate_memory,
)
from ghostmech.runs.store import atomic_write, part_dir, write_metrics, write_text
from ghostmech.training.engine import EXECUTORS
from ghostmech.training.engine.processes import available_cores

__all__ = [
    "Block",
    "Partition",
    "default_networks_per_task",
    "default_processes",
    "MIN_NETWORK_EPOCHS_PER_PROCESS",
    "plan_partition",
    "networks_per_task_from_memory",
    "choose_partition",
    "task_memory",
    "merge_checkpoints",
    "block_shape",
]


def block_shape(shape: tuple[int, ...], cap: int) -> tuple[int, ...]:
    """The greedy block shape of a grid of ``shape`` with at most ``cap`` networks per block."""
    cap = check_positive_int("networks_per_task", cap)
    out, size = [1] * len(shape), 1
    for d in reversed(range(len(shape))):
        room = cap // size
        if room >= shape[d]:
            out[d], size = shape[d], size * shape[d]
            continue
        pieces = -(-shape[d] // room)  # fewest pieces of at most `room`, then even sizes
        out[d] = -(-shape[d] // pieces)
        break
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Block:
    """One block: part ``part`` (index ``part_index``), number ``index`` within it."""

    part_index: int
    part: int | str | None
    index: int
    slices: tuple[slice, ...]  # along the grid dims
    indices: np.ndarray  # flat grid indices of its networks, C order within the block

    @property
    def label(self) -> str:
        return ("" if self.part is None else f"rank_{self.part}/") + f"block_{self.index:04d}"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(s.stop - s.start for s in self.slices)


@dataclasses.dataclass(frozen=True)
class Partition:
    """The blocks of every part of a grid."""

    dims: tuple[str, ...]
    grid_shape: tuple[int, ...]
    block: tuple[int, ...]
    parts: tuple[int | str | None, ...]
    networks_per_task: int

    @property
    def width(self) -> int:
        """Networks in a full block (blocks at the grid's edge may have fewer)."""
        return math.prod(self.block)

    @property
    def counts(self) -> tuple[int, ...]:
        """Blocks along each grid dim."""
        return tuple(-(-n // b) for n, b in zip(self.grid_shape, self.block, strict=True))

    def blocks(self) -> list[Block]:
        """Every block of every part, in order (part, then C order of the block grid)."""
        out = []
        for p, part in enumerate(self.parts):
            for i, corner in enumerate(np.ndindex(*self.counts)):
                slices = tuple(
                    slice(c * b, min((c + 1) * b, n))
                    for c, b, n in zip(corner, self.block, self.grid_shape, strict=True)
                )
                mesh = np.meshgrid(*(np.arange(s.start, s.stop) for s in slices), indexing="ij")
                flat = np.ravel_multi_index(tuple(m.reshape(-1) for m in mesh), self.grid_shape)
                out.append(Block(p, part, i, slices, flat.astype(np.int64)))
        return out

    def get(self, part_index: int, index: int) -> Block:
        return self.blocks()[part_index * math.prod(self.counts) + index]

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        return json.dumps(d | {"parts": list(self.parts)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Partition:
        d = json.loads(text)
        return cls(dims=tuple(d["dims"]), grid_shape=tuple(d["grid_shape"]),
                   block=tuple(d["block"]), parts=tuple(d["parts"]),
                   networks_per_task=int(d["networks_per_task"]))  # fmt: skip


def plan_partition(grid: Grid, networks_per_task: int) -> Partition:
    """The partition of ``grid`` into blocks of at most ``networks_per_task`` networks."""
    cap = check_positive_int("networks_per_task", networks_per_task)
    return Partition(grid.dims, grid.shape, block_shape(grid.shape, cap), grid.parts, cap)


def networks_per_task_from_memory(config: Any, grid: Grid, *, limit_gb: float | None) -> int:
    """Most networks one task may train within the memory limit (`ghostmech.runs.memory`),
    at most the grid size; 0 if not even one fits."""
    limit = 0.8 * available_gb() if limit_gb is None else limit_gb
    return int(min(limit * GIB // task_memory(config, grid, 1).bytes, grid.size))


def default_networks_per_task(
    config: Any, grid: Grid, *, limit_gb: float | None, cores: int | None = None
) -> int:
    """The default layout: one task per core, each a whole number of compiled widths.

    With W the width of the part's executor (`ghostmech.training.engine`: the
    kernel 32, vmap 1-64 by network size, loop 1) and G networks, each of the ``cores`` tasks gets
    ``ceil(ceil(G / W) / cores)`` programs of W networks: the least padding and the
    fewest programs that keep every core busy (measured fastest for Fig. 6A:
    docs/benchmarks.md). Capped by the memory limit (then a multiple of W if ≥ W).
    """
    cores = available_cores() if cores is None else check_positive_int("cores", cores)
    width = max(
        EXECUTORS[executor_name(config, grid, p)].width_for(template_network(config, p))
        for p in grid.parts
    )
    programs = -(-grid.size // width)
    per_task = min(-(-programs // cores) * width, grid.size)
    fit = networks_per_task_from_memory(config, grid, limit_gb=limit_gb)
    if fit < per_task:
        per_task = fit - fit % width if fit >= width else fit
    return per_task


#: below this many network-epochs per process, starting a worker process (~5 s to import
#: JAX and compile, more under load) costs more than it saves: 10^6 network-epochs are
#: ~10 s of the rank-one kernel on one core (docs/benchmarks.md)
MIN_NETWORK_EPOCHS_PER_PROCESS = 10**6


def default_processes(config: Any, grid: Grid, tasks: int, *, cores: int | None = None) -> int:
    """Worker processes for ``tasks`` blocks: one per core this process may run on, at
    most one per task and one per `MIN_NETWORK_EPOCHS_PER_PROCESS` of work (1: train in
    this process). ``--processes`` overrides it.

    Every core, not the "free" ones: the 1-min load average lags (it still counts a job
    that ended a minute ago, so a quiet 2-core box read as one free core), and a
    layout that follows the load would make the default depend on the moment. On a
    box whose other core is busy the two processes only share one core (measured:
    docs/benchmarks.md, "Default sweep layout"). The numbers do not depend on the
    choice (fixed compiled widths).
    """
    cores = available_cores() if cores is None else check_positive_int("cores", cores)
    work = grid.size * len(grid.parts) * config.training.epochs
    return max(1, min(cores, tasks, work // MIN_NETWORK_EPOCHS_PER_PROCESS))


def task_memory(config: Any, grid: Grid, networks: int) -> Any:
    """The `MemoryEstimate` of one task of ``networks`` networks (largest part)."""
    est = estimate_memory(config, grid)
    per_net = est.bytes // max(est.networks, 1)
    return dataclasses.replace(est, networks=networks, bytes=per_net * networks)


def choose_partition(
    config: Any, grid: Grid, networks_per_task: int | None, *, limit_gb: float | None
) -> Partition:
    """The partition of a new run: ``networks_per_task`` if given (checked against the
    memory limit), else `default_networks_per_task`. The numbers of every network are
    the same whatever the partition (fixed compiled widths)."""
    if networks_per_task is None:
        per_task = default_networks_per_task(config, grid, limit_gb=limit_gb)
        if per_task < 1:  # not even one network: report the grid, as `check_memory` does
            check_memory(config, grid, limit_gb=limit_gb)
        return plan_partition(grid, max(per_task, 1))
    plan = plan_partition(grid, networks_per_task)
    need = task_memory(config, grid, plan.width)
    limit = 0.8 * available_gb() if limit_gb is None else limit_gb
    if need.bytes > limit * GIB:
        raise MemoryLimitError(
            f"`networks_per_task` (={networks_per_task}): one task needs about {need}, above "
            f"the memory limit of {limit:.3g} GiB; lower it (must be >= 1)"
        )
    return plan


# --- files of a block ------------------------------------------------------------


def block_dir(out: Path, block: Block) -> Path:
    return Path(out) / "blocks" / block.label


def marker(out: Path, block: Block) -> Path:
    return Path(out) / "blocks" / f"{block.label}.done"


def epoch_file(out: Path, block: Block) -> Path:
    """``blocks/[rank_K/]block_NNNN.epoch``: the epochs of the block on disk (for progress)."""
    return Path(out) / "blocks" / f"{block.label}.epoch"


def read_epoch(out: Path, block: Block) -> int:
    """Epochs of ``block`` written so far (0 if none; a torn read counts as 0)."""
    try:
        return int(epoch_file(out, block).read_text())
    except (OSError, ValueError):
        return 0


def read_marker(out: Path, block: Block) -> dict[str, Any] | None:
    file = marker(out, block)
    return json.loads(file.read_text()) if file.is_file() else None


def write_marker(out: Path, block: Block, summary: dict[str, Any]) -> None:
    """Mark the block finished: its metrics, state and checkpoint pieces are on disk."""
    write_text(marker(out, block), json.dumps(summary, indent=1))


def write_block_metrics(
    path: Path,
    partition: Partition,
    block: Block,
    start: int,
    metrics: dict[str, np.ndarray],
    status: np.ndarray,
    nan_epoch: np.ndarray,
) -> None:
    """Write epochs ``[start, start + n)`` of ``block``; arrays ``[block networks, (n)]``."""
    rank = None if partition.parts == (None,) else block.part_index
    write_metrics(path, partition.dims, block.slices, rank, start, metrics, status, nan_epoch)


def merge_checkpoints(out: Path, partition: Partition, epochs: list[int]) -> None:
    """Join the blocks' checkpoint pieces into ``checkpoints/[rank_K/]epoch_*.npz`` (grid order),
    the files `ghostmech.runs.store.Run.checkpoint` reads; done files are kept."""
    blocks, size = partition.blocks(), math.prod(partition.grid_shape)
    for p, part in enumerate(partition.parts):
        folder = part_dir(Path(out) / "checkpoints", part)
        folder.mkdir(parents=True, exist_ok=True)
        for e in epochs:
            target = folder / f"epoch_{e:09d}.npz"
            if target.is_file():
                continue
            merged: dict[str, np.ndarray] = {}
            for b in (b for b in blocks if b.part_index == p):
                with np.load(block_dir(out, b) / target.name) as piece:
                    for k in piece.files:
                        arr = piece[k]
                        if k not in merged:
                            merged[k] = np.zeros((size, *arr.shape[1:]), arr.dtype)
                        merged[k][b.indices] = arr[: b.indices.size]

            def write(path: Path, merged=merged) -> None:
                with open(path, "wb") as fh:
                    np.savez(fh, **merged)

            atomic_write(target, write)
