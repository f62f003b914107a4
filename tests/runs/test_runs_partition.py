"""A run's bits do not depend on its partition nor on where its blocks run; run = sweep.

One tiny grid (5 lr × 2 seeds of rank-1 DA networks, N = 8, lrs up to far
above η_c, where training amplifies the last bit fastest), 60 epochs in chunks
of 20, checkpoints every 30. Trained as the whole grid in this process, as
blocks of 3 and of 4 networks in this process, and as blocks of 4 in two
worker processes: every metric and checkpoint must be bitwise the same, for
the kernel and for the vmapped executor. `run_experiment` and `sweep` build the
same networks and run the same executor: bitwise the same too. (Resume after
an interruption: tests/runs/test_runs_store.py and test_runs_faults.py.)
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest
import xarray as xr

from ghostmech.runs import config_from_dict, resolve_grid, run_experiment
from ghostmech.runs.factory import build_network, make_task
from ghostmech.runs.partition import default_networks_per_task, default_processes
from ghostmech.training import sweep

TINY = {
    "name": "tiny-partition",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}},
    "network": {"preset": "fig6a_rank1", "n": 8},
    "training": {"epochs": 60, "chunk": 20},
    "grid": {"lr": [0.05, 0.3, 1.0, 3.0, 10.0], "seed": 2},
    "checkpoints": {"every": 30},
}


def _build(cfg, key):
    return build_network(cfg, None, key=key)


def _cfg(backend):
    return config_from_dict(TINY | {"training": TINY["training"] | {"backend": backend}})


def _same_run(a, b):
    xr.testing.assert_identical(a.metrics.load(), b.metrics.load())
    for e in (0, 30, 60):
        pairs = zip(jax.tree.leaves(a.checkpoint(e)), jax.tree.leaves(b.checkpoint(e)), strict=True)
        for x, y in pairs:
            np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module", params=["kernel", "vmap"])
def whole(request, tmp_path_factory):
    backend = request.param
    out = tmp_path_factory.mktemp(backend) / "whole"
    return backend, run_experiment(_cfg(backend), out)


@pytest.mark.parametrize("per_task", [3, 4])
def test_blocks_of_any_size_give_the_whole_grids_bits(whole, per_task, tmp_path):
    backend, ref = whole
    run = run_experiment(_cfg(backend), tmp_path / "r", networks_per_task=per_task, processes=1)
    _same_run(run, ref)


def test_blocks_in_two_worker_processes_give_the_same_bits(whole, tmp_path):
    backend, ref = whole
    if backend == "vmap":
        pytest.skip("one process pool per module is enough: the kernel is the default path")
    run = run_experiment(_cfg(backend), tmp_path / "r", networks_per_task=4, processes=2)
    assert "in 2 processes" in (run.path / "run.log").read_text()
    _same_run(run, ref)


def test_run_experiment_equals_sweep_bitwise(whole):
    backend, ref = whole
    cfg = _cfg(backend)
    grid = resolve_grid(cfg)
    res = sweep(functools.partial(_build, cfg), make_task(cfg),
                lrs=grid.coords["lr"], seeds=grid.coords["seed"], epochs=60, chunk=20,
                checkpoints={"every": 30}, backend=backend)  # fmt: skip
    for k in ("loss", "grad_norm"):
        np.testing.assert_array_equal(ref.metrics[k].values, res.metrics[k])
    np.testing.assert_array_equal(ref.checkpoint(60).m, res.params.m)


def test_negative_control_another_lr_changes_the_bits(whole, tmp_path):
    backend, ref = whole
    cfg = config_from_dict(TINY | {"training": TINY["training"] | {"backend": backend},
                                   "grid": {"lr": [0.05, 0.3, 1.0, 3.0, 10.000001], "seed": 2}})  # fmt: skip
    run = run_experiment(cfg, tmp_path / "r")
    assert not np.array_equal(run.metrics.loss.values[-1], ref.metrics.loss.values[-1])
    np.testing.assert_array_equal(run.metrics.loss.values[:-1], ref.metrics.loss.values[:-1])


def test_default_layout_is_one_task_per_core_in_whole_compiled_widths():
    full = config_from_dict(
        TINY
        | {
            "training": {"epochs": 200_001, "chunk": 10_000},
            "grid": {"lr": {"start": -4, "stop": -1, "num": 30}, "seed": 10},
        }
    )  # the Fig. 6A grid: 300 networks, kernel width 32 -> 10 programs
    grid = resolve_grid(full)
    assert default_networks_per_task(full, grid, limit_gb=None, cores=2) == 160
    assert default_networks_per_task(full, grid, limit_gb=None, cores=1) == 300
    assert default_processes(full, grid, tasks=2, cores=2) == 2
    assert default_processes(full, grid, tasks=1, cores=2) == 1  # at most one per task
    small = _cfg("auto")  # 600 network-epochs: a worker process would cost more than it saves
    assert default_processes(small, resolve_grid(small), tasks=3, cores=2) == 1
