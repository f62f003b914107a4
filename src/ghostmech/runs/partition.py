"""Split a run's grid into blocks of networks: the unit of work, of writing and of resume.

A block is a rectangle of the grid (a slice along each dim, one rank part), so
its metrics are one region of ``metrics.zarr`` whose zarr chunks belong to that
block only: blocks never write the same file, and can be written by different
processes at once. The block shape is greedy from the last dim: whole trailing
dims while they fit in ``networks_per_task``, then an even split of the next
dim, 1 along the leading ones. E.g. 30 lr × 10 seeds at 64 per task gives
blocks of 6 × 10 (5 blocks).

Every block trains as ``width = prod(block_shape)`` networks; a block at the
edge of the grid is padded with copies of its last network (results
discarded), so each network always sits in the same vmapped program of the
same width, whoever runs it: the bits do not depend on the executor.

On disk (next to the files of `ghostmech.runs.store`)::

    RUN/partition.json                     the plan (fixed when the run starts)
    RUN/blocks/[rank_K/]block_0003/        state.npz and checkpoint pieces epoch_*.npz
    RUN/blocks/[rank_K/]block_0003.done    JSON marker, written last (tmp + os.replace)
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ghostmech._checks import check_positive_int
from ghostmech.runs.grid import Grid
from ghostmech.runs.store import write_text

__all__ = [
    "Block",
    "Partition",
    "DEFAULT_NETWORKS_PER_TASK",
    "plan_partition",
    "networks_per_task_from_memory",
    "choose_partition",
    "task_memory",
    "merge_checkpoints",
    "block_shape",
]

#: default cap on networks per task, so a sweep has several tasks to spread over workers
DEFAULT_NETWORKS_PER_TASK = 64


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
        """Networks each task trains (real ones plus padding)."""
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

    def padded(self, block: Block) -> np.ndarray:
        """``[width]`` flat indices: the block's networks, then copies of its last one."""
        pad = np.full(self.width - block.indices.size, block.indices[-1], np.int64)
        return np.concatenate([block.indices, pad])

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
    capped at `DEFAULT_NETWORKS_PER_TASK` and the grid size; 0 if not even one fits."""
    from ghostmech.runs.memory import GIB, available_gb

    limit = 0.8 * available_gb() if limit_gb is None else limit_gb
    return int(min(limit * GIB // task_memory(config, grid, 1).bytes,
                   DEFAULT_NETWORKS_PER_TASK, grid.size))  # fmt: skip


def task_memory(config: Any, grid: Grid, networks: int) -> Any:
    """The `MemoryEstimate` of one task of ``networks`` networks (largest part)."""
    from ghostmech.runs.memory import estimate_memory

    est = estimate_memory(config, grid)
    per_net = est.bytes // max(est.networks, 1)
    return dataclasses.replace(est, networks=networks, bytes=per_net * networks)


def choose_partition(
    config: Any, grid: Grid, networks_per_task: int | None, *, limit_gb: float | None
) -> Partition:
    """The partition of a new run: ``networks_per_task`` if given (checked against the
    memory limit), else the most that fit (`networks_per_task_from_memory`)."""
    from ghostmech.runs.memory import GIB, MemoryLimitError, available_gb, check_memory

    if networks_per_task is None:
        fit = networks_per_task_from_memory(config, grid, limit_gb=limit_gb)
        if fit < 1:  # not even one network: report the grid, as `check_memory` does
            check_memory(config, grid, limit_gb=limit_gb)
        return plan_partition(grid, max(fit, 1))
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
    lead = () if partition.parts == (None,) else ("rank",)
    dims, pre, shape = (*lead, *partition.dims), (1,) * len(lead), block.shape
    n = next(iter(metrics.values())).shape[-1]
    data = {
        k: ((*dims, "epoch"), np.asarray(v, np.float32).reshape(*pre, *shape, n))
        for k, v in metrics.items()
    }
    data["status"] = (dims, np.asarray(status, np.int8).reshape(*pre, *shape))
    data["nan_epoch"] = (dims, np.asarray(nan_epoch, np.int64).reshape(*pre, *shape))
    region = dict(zip(partition.dims, block.slices, strict=True))
    region["epoch"] = slice(start, start + n)
    if lead:
        region["rank"] = slice(block.part_index, block.part_index + 1)
    xr.Dataset(data).to_zarr(path, region=region, consolidated=False)


def merge_checkpoints(out: Path, partition: Partition, epochs: list[int]) -> None:
    """Join the blocks' checkpoint pieces into ``checkpoints/[rank_K/]epoch_*.npz`` (grid order),
    the files `ghostmech.runs.store.Run.checkpoint` reads; done files are kept."""
    from ghostmech.runs.store import _atomic, part_dir

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

            _atomic(target, write)
