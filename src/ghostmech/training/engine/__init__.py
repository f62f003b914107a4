"""The training engine: one schedule, one loop, executors and sinks.

* `Schedule` / `make_schedule`: epochs, chunk, checkpoints, interventions, record stride;
* `drive`: the only loop over chunks, checkpoints and interventions (scheduled, or
  decided from the metrics by a `Rule`), and over networks that leave the run when
  decided (a `Retire`) or at their own epoch budget;
* executors (`EXECUTORS`: loop / vmap / kernel; `OneNetwork` for `fit`), each at
  a fixed compiled width, and `kernel_applies` / `choose_executor`, the one rule
  for which applies;
* sinks: `MemorySink` here (`fit`, `sweep`); zarr sinks in `ghostmech.runs`;
* `processes`: a grid's parts in worker processes, one per core, threads pinned.
"""

from __future__ import annotations

from ghostmech.training.engine.executors import (
    BACKENDS,
    EXECUTORS,
    KERNEL_WIDTH,
    VMAP_WIDTH,
    VMAP_WORK,
    Executor,
    KernelExecutor,
    LoopExecutor,
    OneNetwork,
    VmapExecutor,
    choose_executor,
    kernel_applies,
    make_executor,
    vmap_width,
)
from ghostmech.training.engine.loop import MemorySink, Retire, Rule, Sink, drive, first_epoch
from ghostmech.training.engine.schedule import Schedule, make_schedule
from ghostmech.training.engine.stacks import concat, padded_index, put, size, stack, take

__all__ = [
    "BACKENDS",
    "EXECUTORS",
    "KERNEL_WIDTH",
    "VMAP_WIDTH",
    "VMAP_WORK",
    "Executor",
    "KernelExecutor",
    "LoopExecutor",
    "MemorySink",
    "OneNetwork",
    "Retire",
    "Rule",
    "Schedule",
    "Sink",
    "VmapExecutor",
    "choose_executor",
    "concat",
    "drive",
    "first_epoch",
    "kernel_applies",
    "make_executor",
    "make_schedule",
    "padded_index",
    "put",
    "size",
    "stack",
    "take",
    "vmap_width",
]
