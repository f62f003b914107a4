"""Blocks of networks on Dask: same bits as in-process, and a killed worker loses nothing.

One tiny grid (5 lr × 2 seeds of rank-1 DA networks, N = 8, 60 epochs in chunks
of 10) split at 4 networks per task: blocks of 2 lr × 2 seeds, the last one
padded (2 real networks of 4). A 2-worker `LocalCluster` (processes, loopback)
is shared by the module and torn down at its end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import numpy as np
import psutil
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from ghostmech.runs import config_from_dict, resolve_grid, run_experiment
from ghostmech.runs.dask_executor import open_client
from ghostmech.runs.partition import Partition, block_dir, block_shape, marker, plan_partition

TINY = {
    "name": "tiny-blocks",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}},
    "network": {"preset": "fig6a_rank1", "n": 8},
    "training": {"epochs": 60, "chunk": 10, "backend": "vmap"},
    "grid": {"lr": [0.01, 0.02, 0.05, 0.1, 0.2], "seed": 2},
    "checkpoints": {"every": 30},
}
PER_TASK = 4


@given(
    shape=st.lists(st.integers(1, 7), min_size=1, max_size=4).map(tuple),
    cap=st.integers(1, 60),
)
def test_blocks_tile_the_grid_exactly_once(shape, cap):
    """Brute force: every network is in exactly one block, each block a rectangle <= cap."""
    part = Partition(tuple("abcd"[: len(shape)]), shape, block_shape(shape, cap), (None,), cap)
    seen = np.zeros(shape, int)
    every = np.indices(shape)
    for b in part.blocks():
        assert b.indices.size <= part.width <= cap
        seen[b.slices] += 1
        inside = every[(slice(None), *b.slices)].reshape(len(shape), -1)  # C order in the block
        np.testing.assert_array_equal(b.indices, np.ravel_multi_index(tuple(inside), shape))
    np.testing.assert_array_equal(seen, 1)
    assert Partition.from_json(part.to_json()) == part


@pytest.fixture(scope="module")
def cfg():
    return config_from_dict(TINY)


def _warm_up(cfg, out):
    """Run the sweep once on a worker so that its JAX programs are compiled (and cached)."""
    run_experiment(cfg, out, networks_per_task=PER_TASK)


def _ours(proc: psutil.Process) -> bool:
    """A process this module started (not the interpreter-wide multiprocessing helper)."""
    with contextlib.suppress(psutil.Error):
        if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
            return "resource_tracker" not in " ".join(proc.cmdline())
    return False


@pytest.fixture(scope="module")
def cluster(cfg, tmp_path_factory):
    """(client, reference run): two worker processes, warmed up while this process
    computes the in-process reference (same blocks); no process outlives the module."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cache, tmp = tmp_path_factory.getbasetemp() / "jax-cache", tmp_path_factory.mktemp("dask")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JAX_COMPILATION_CACHE_DIR", str(cache))
        mp.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        with open_client(workers=2) as client:
            warm = [client.submit(_warm_up, cfg, str(tmp / f"warm{i}"), workers=[addr],
                                  allow_other_workers=False, pure=False)
                    for i, addr in enumerate(client.scheduler_info()["workers"])]  # fmt: skip
            reference = run_experiment(cfg, tmp / "ref", networks_per_task=PER_TASK)
            client.gather(warm)
            yield client, reference
    time.sleep(0.5)
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert [p.cmdline() for p in left if _ours(p)] == []


def _same_files(a, b):
    names = sorted(p.relative_to(a) for p in a.rglob("checkpoints/*.npz"))
    assert names and names == sorted(p.relative_to(b) for p in b.rglob("checkpoints/*.npz"))
    for name in names:
        with np.load(a / name) as x, np.load(b / name) as y:
            assert x.files == y.files
            for k in x.files:
                np.testing.assert_array_equal(x[k], y[k])


def test_dask_sweep_is_bit_identical_to_in_process(cfg, cluster, tmp_path):
    client, reference = cluster
    seen = []
    run = run_experiment(cfg, tmp_path / "run", networks_per_task=PER_TASK, client=client,
                         progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert run.status == "finished"
    xr.testing.assert_identical(run.metrics.load(), reference.metrics.load())
    _same_files(run.path, reference.path)
    assert np.all(np.isfinite(run.metrics["loss"].values))
    total = 10 * 60
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    log = (run.path / "run.log").read_text()
    assert "on Dask" in log and log.count(" done: ") == 3


def test_a_worker_killed_mid_chunk_reruns_it_elsewhere(cfg, cluster, tmp_path):
    client, reference = cluster
    out = tmp_path / "run"
    pids = client.run(os.getpid)
    blocks = plan_partition(resolve_grid(cfg), PER_TASK).blocks()
    result = {}

    def sweep():
        result["run"] = run_experiment(cfg, out, networks_per_task=PER_TASK, client=client)

    driver = threading.Thread(target=sweep)
    driver.start()
    victim, deadline = None, time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and driver.is_alive():
        started = [b for b in blocks if (block_dir(out, b) / "state.npz").is_file()]
        running = [b for b in started if not marker(out, b).is_file()]
        if running:
            executing = client.run(
                lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing]
            )
            victim = next(
                ((b, addr) for b in running for addr, keys in executing.items()
                 if any(b.label in k for k in keys)), None,
            )  # fmt: skip
        time.sleep(0.01)
    assert victim is not None, "no block was caught mid-chunk"
    block, addr = victim
    os.kill(pids[addr], signal.SIGKILL)
    killed_unfinished = not marker(out, block).is_file()
    driver.join(timeout=120)
    assert not driver.is_alive() and result["run"].status == "finished"
    assert killed_unfinished  # the worker died before this block was done
    log = (out / "run.log").read_text()
    done = [line for line in log.splitlines() if " done: " in line]
    assert sorted(line.split()[2] for line in done) == sorted(b.label for b in blocks)
    mine = next(line for line in done if block.label in line)
    assert "resumed at epoch" in mine  # continued from its saved state on another worker
    xr.testing.assert_identical(result["run"].metrics.load(), reference.metrics.load())
    _same_files(out, reference.path)


def test_a_local_cluster_starts_quietly_beside_another_on_port_8787():
    """The scheduler's HTTP server does not take Dask's default port 8787: with that port
    held (as by a sweep already running on the machine, or another test process), a
    cluster starts without the "Port 8787 is already in use" warning, which this suite
    turns into an error (the failure seen with a sweep running beside ``make test``)."""
    import socket
    import warnings

    held = socket.socket()
    try:
        held.bind(("127.0.0.1", 8787))
        held.listen()
    except OSError:  # taken already: the condition under test holds anyway
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with open_client(workers=1) as client:
                port = client.run_on_scheduler(
                    lambda dask_scheduler: dask_scheduler.http_server.port
                )
                assert client.submit(int, "7").result() == 7
    finally:
        held.close()
    assert port not in (8787, 0)
