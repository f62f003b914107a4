"""Faults: kill -9 of the driver, a full disk, an unwritable output directory.

One tiny grid (5 lr × 2 seeds of rank-1 DA networks, N = 8, 60 epochs in chunks
of 10) in blocks of 2 lr × 2 seeds: 3 blocks (the last padded) of 6 chunks each.
The reference is the same sweep run in this process, uninterrupted.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr

from ghostmech.cli import main
from ghostmech.runs import config_from_dict, open_run, resolve_grid, run_experiment
from ghostmech.runs import partition as P

TINY = {  # the grid of test_runs_dask.py: a JAX cache its workers filled is used here too
    "name": "tiny-faults",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}},
    "network": {"preset": "fig6a_rank1", "n": 8},
    "training": {"epochs": 60, "chunk": 10, "backend": "vmap"},
    "grid": {"lr": [0.01, 0.02, 0.05, 0.1, 0.2], "seed": 2},
    "checkpoints": {"every": 30},
}
PER_TASK = "4"
CLI = "import sys; from ghostmech.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def cfg():
    return config_from_dict(TINY)


@pytest.fixture(scope="module")
def config_file(cfg, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    path.write_text(cfg.to_toml())
    return path


@pytest.fixture(scope="module")
def reference(cfg, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    return run_experiment(cfg, out, networks_per_task=int(PER_TASK))


def _assert_same_run(path, reference):
    run = open_run(path)
    assert run.status == "finished"
    xr.testing.assert_identical(run.metrics.load(), reference.metrics.load())
    names = sorted(p.relative_to(path) for p in path.glob("checkpoints/*.npz"))
    assert names == sorted(
        p.relative_to(reference.path) for p in reference.path.glob("checkpoints/*.npz")
    )
    for name in names:
        with np.load(path / name) as a, np.load(reference.path / name) as b:
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k])


def _markers(out):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("blocks/*.done")}


def test_kill_9_of_the_driver_then_rerun_finishes_without_recomputing(
    cfg, config_file, tmp_path, tmp_path_factory, request
):
    out = tmp_path / "run"
    argv = [sys.executable, "-c", CLI, "sweep", str(config_file), "--out", str(out),
            "--networks-per-task", PER_TASK]  # fmt: skip
    env = os.environ | {
        "JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }
    driver = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed = {}

    def kill_after_first_marker():
        deadline = time.monotonic() + 120
        while driver.poll() is None and time.monotonic() < deadline:
            if any(out.glob("blocks/*.done")):
                driver.send_signal(signal.SIGKILL)
                killed["markers"] = _markers(out)
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_after_first_marker)
    watcher.start()
    reference = request.getfixturevalue("reference")  # computed meanwhile, in this process
    watcher.join()
    assert driver.wait(timeout=60) == -signal.SIGKILL, driver.stderr.read().decode()
    driver.stderr.close()
    assert json.loads((out / "progress.json").read_text())["finished"] is False
    before = _markers(out)
    assert 1 <= len(before) < 3 and killed["markers"].items() <= before.items()
    part = open_run(out)  # what finished is readable
    assert part.status == "incomplete"

    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stdout and f"{len(before)} done" in again.stdout
    after = _markers(out)
    assert {k: after[k] for k in before} == before  # finished blocks were not rewritten
    log = (out / "run.log").read_text()
    rerun = log[log.rindex("resuming") :]
    assert f"skipping {len(before)} finished blocks" in rerun
    for name in before:
        assert name.removesuffix(".done") + " done" not in rerun  # ... nor recomputed
    assert all(log.count(f"block_{i:04d} done") <= 1 for i in range(3))
    _assert_same_run(out, reference)


def test_full_disk_is_one_line_and_keeps_what_finished(
    cfg, config_file, reference, tmp_path, monkeypatch, capsys
):
    """ENOSPC on the 9th region write (inside block 1): block 0 and 20 epochs of 1 stay."""
    out, calls = tmp_path / "run", []
    real = P.write_block_metrics

    def full_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 9:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(P, "write_block_metrics", full_disk)
    argv = ["sweep", str(config_file), "--out", str(out), "--networks-per-task", PER_TASK]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "No space left on device (ENOSPC)" in err and "rerun the same command" in err

    part = open_run(out)
    assert part.status == "incomplete"
    loss, ref = part.metrics["loss"].values, reference.metrics["loss"].values  # [lr, seed, epoch]
    np.testing.assert_array_equal(loss[:2], ref[:2])  # block 0: lr 0-1, both seeds
    np.testing.assert_array_equal(loss[2:4, :, :20], ref[2:4, :, :20])  # block 1, 2 chunks
    assert np.all(np.isnan(loss[2:4, :, 20:])) and np.all(np.isnan(loss[4:]))
    blocks = P.plan_partition(resolve_grid(cfg), int(PER_TASK)).blocks()
    assert [P.read_marker(out, b) is not None for b in blocks] == [1, 0, 0]

    monkeypatch.setattr(P, "write_block_metrics", real)  # space freed: the same command
    assert main(argv) == 0
    _assert_same_run(out, reference)


def test_unwritable_output_directory_is_one_line(config_file, tmp_path, monkeypatch, capsys):
    afile = tmp_path / "a-file"
    afile.write_text("")
    assert main(["sweep", str(config_file), "--out", str(afile / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Not a directory (ENOTDIR)" in err
    assert "could not create the run directory" in err

    from ghostmech.runs import store

    def read_only(path, text):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(store, "write_text", read_only)  # as if the directory were read-only
    assert main(["sweep", str(config_file), "--out", str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Permission denied (EACCES)" in err
