"""Memory estimate of a grid, checked before training starts.

For G networks of P parameter values (all arrays of the network), an optimiser
with S slots per parameter (SGD 0, momentum 1, Adam 2), B trials of T steps,
N neurons and a chunk of C epochs (float32, 4 bytes)::

    bytes ≈ G · [4 P (3 + S)            parameters, gradients, updates, slots
                 + 4 · 3 T B N          rates, pre-activations, noise kept for backprop
                 + 4 · 3 C]             per-epoch metrics of the chunk

The largest part (rank) of the grid counts. The default limit is 80 % of the
memory available now.
"""

from __future__ import annotations

import dataclasses
import os

import equinox as eqx
import jax
import numpy as np

from ghostmech.runs.config import ExperimentConfig
from ghostmech.runs.factory import make_task, resolve_batch, template_network
from ghostmech.runs.grid import Grid

__all__ = ["MemoryEstimate", "estimate_memory", "check_memory", "available_gb", "MemoryLimitError"]

SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}
GIB = 1024**3


class MemoryLimitError(ValueError):
    """The estimated memory of a grid exceeds the limit."""


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    networks: int
    params: int  # per network
    activations: int  # floats per network per epoch (T·B·N·3)
    bytes: int

    def __str__(self) -> str:
        return (
            f"{_human(self.bytes)} ({self.networks} networks × "
            f"({self.params} parameters incl. optimiser state, "
            f"{self.activations} activation floats) × 4 bytes)"
        )


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} GiB"  # pragma: no cover


def available_gb() -> float:
    """Memory available now (``MemAvailable`` of /proc/meminfo; else the physical size)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / GIB
    except OSError:  # pragma: no cover - not Linux
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB  # pragma: no cover


def _part_estimate(config: ExperimentConfig, grid: Grid, part) -> MemoryEstimate:
    net = template_network(config, part)
    p = sum(int(np.size(x)) for x in jax.tree.leaves(eqx.filter(net, eqx.is_array)))
    task = make_task(config)
    batch = resolve_batch(config, task)
    trials = batch if isinstance(batch, int) else batch.n_trials
    act = 3 * task.n_steps * trials * config.network.n
    params = p * (3 + SLOTS[config.training.optimizer])
    chunk = min(config.training.chunk, config.training.epochs)
    per_net = 4 * (params + act + 3 * chunk)
    return MemoryEstimate(grid.size, params, act, grid.size * per_net)


def estimate_memory(config: ExperimentConfig, grid: Grid) -> MemoryEstimate:
    """The estimate for the largest part of the grid."""
    return max((_part_estimate(config, grid, p) for p in grid.parts), key=lambda e: e.bytes)


def check_memory(config: ExperimentConfig, grid: Grid, *, limit_gb: float | None) -> MemoryEstimate:
    """Return the estimate; raise `MemoryLimitError` (showing it) if it exceeds the limit."""
    est = estimate_memory(config, grid)
    limit = 0.8 * available_gb() if limit_gb is None else limit_gb
    if est.bytes > limit * GIB:
        raise MemoryLimitError(
            f"the grid needs about {est}, above the memory limit of {_human(limit * GIB)}; "
            "shrink the grid or the batch, or raise output.memory_limit_gb"
        )
    return est
