"""ghostmech.runs: experiment configs (TOML), run directories (xarray + zarr), executors.

>>> from ghostmech.runs import load_config, resolve_config, run_experiment  # doctest: +SKIP
>>> run = run_experiment(load_config(resolve_config("fig6a_rank1", quick=True)), "out")  # doctest: +SKIP
>>> run.metrics.loss.sel(seed=0).isel(epoch=-1)  # doctest: +SKIP

Shipped configs (every RNN experiment of docs/model.md §4, quick and full) are listed by
`shipped_configs` and found by name with `resolve_config`.
"""

from __future__ import annotations

from ghostmech.runs.config import (
    ConfigError,
    ExperimentConfig,
    apply_overrides,
    config_from_dict,
    load_config,
)
from ghostmech.runs.grid import Grid, resolve_grid
from ghostmech.runs.memory import MemoryEstimate, MemoryLimitError, estimate_memory
from ghostmech.runs.run import RunDirError, dir_status, run_experiment
from ghostmech.runs.shipped import resolve_config, shipped_configs
from ghostmech.runs.store import Run, open_run

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "Grid",
    "MemoryEstimate",
    "MemoryLimitError",
    "Run",
    "RunDirError",
    "apply_overrides",
    "config_from_dict",
    "dir_status",
    "estimate_memory",
    "load_config",
    "open_run",
    "resolve_config",
    "resolve_grid",
    "run_experiment",
    "shipped_configs",
]
