"""The machine a run trained on: recorded per block / part, a move to another machine logged.

A resume is bit-identical only on one machine (its rounding); these tests fake a second
machine by replacing `machine.fingerprint` and check that the run says so, while a resume
on the same machine records one machine and warns of nothing (negative control).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_runs_store import TINY, Stop, _interrupt_after  # the same tiny grid and interrupt

from ghostmech.runs import apply_overrides, config_from_dict, machine, run_experiment
from ghostmech.runs import partition as P


def _other_machine(monkeypatch):
    real = machine.fingerprint()
    monkeypatch.setattr(machine, "fingerprint", lambda: real | {"isa": "sse4_2", "cpu": "other"})


def test_fingerprint_names_this_cpu_and_the_isa_cap(monkeypatch):
    here = machine.fingerprint()
    assert set(here) == {"cpu", "isa", "isa_cap", "matmul_threads", "jax", "jaxlib"}
    assert here["matmul_threads"] == "one"  # import ghostmech set it (ghostmech._threads)
    if here["isa"] != "unknown":  # the widest of the ISAs the kernel lists for this CPU
        flags = Path("/proc/cpuinfo").read_text().split()
        assert here["isa"] in flags
        wider = machine._ISAS[: machine._ISAS.index(here["isa"])]
        assert not set(wider) & set(flags)
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1 "
                                    "--xla_cpu_max_isa=SSE4_2")  # fmt: skip
    assert machine.fingerprint()["isa_cap"] == "SSE4_2"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")  # threads: no cap
    assert machine.fingerprint()["isa_cap"] == ""
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true")
    assert machine.fingerprint()["matmul_threads"] == "many"


def test_an_entry_written_before_a_key_was_recorded_is_not_a_move(tmp_path, monkeypatch):
    old = {k: v for k, v in machine.fingerprint().items() if k != "matmul_threads"}
    (tmp_path / machine.MACHINES_FILE).write_text(json.dumps([{"from_epoch": 0, **old}]))
    assert len(machine.record(tmp_path, 5)) == 1
    # control: a key the old entry has changes (and the new entry records the threading)
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=SSE4_2 --xla_cpu_multi_thread_eigen=true")
    entries = machine.record(tmp_path, 9)
    said = machine.describe(entries)
    assert len(entries) == 2 and "capped at SSE4_2, threaded matmuls" in said


def test_record_appends_only_on_a_change_of_machine(tmp_path, monkeypatch):
    assert machine.record(tmp_path, 0) == machine.read(tmp_path)
    assert len(machine.record(tmp_path, 7)) == 1  # same machine again: nothing new
    assert machine.describe(machine.read(tmp_path)) == ""
    _other_machine(monkeypatch)
    entries = machine.record(tmp_path, 14)
    assert [e["from_epoch"] for e in entries] == [0, 14]
    assert "2 machines" in machine.describe(entries) and "epoch 14 on other" in machine.describe(
        entries
    )


@pytest.mark.parametrize("moved", [False, True], ids=["same-machine", "other-machine"])
def test_a_resumed_part_records_its_machines(tmp_path, monkeypatch, moved):
    cfg = config_from_dict(TINY)
    out = tmp_path / "run"
    with pytest.raises(Stop):
        run_experiment(cfg, out, on_chunk=_interrupt_after(2))
    if moved:
        _other_machine(monkeypatch)
    done = run_experiment(cfg, out)
    (path,) = out.rglob(machine.MACHINES_FILE)
    entries = json.loads(path.read_text())
    log = (out / "run.log").read_text()
    if moved:
        assert [e["from_epoch"] for e in entries] == [0, 10] and entries[1]["cpu"] == "other"
        assert "WARNING: trained on 2 machines" in log
    else:
        assert len(entries) == 1 and entries[0]["from_epoch"] == 0
        assert "WARNING" not in log
    whole = run_experiment(cfg, tmp_path / "whole")
    xr.testing.assert_identical(done.metrics.load(), whole.metrics.load())  # same numbers here


def test_a_resumed_block_records_its_machines(tmp_path, monkeypatch):
    cfg = config_from_dict(apply_overrides(TINY, ["grid.seed=1"]))
    out = tmp_path / "run"
    real, calls = P.write_block_metrics, []

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Stop
        return real(*args, **kwargs)

    monkeypatch.setattr(P, "write_block_metrics", crash)
    with pytest.raises(Stop):
        run_experiment(cfg, out, networks_per_task=2, processes=1)
    monkeypatch.setattr(P, "write_block_metrics", real)
    _other_machine(monkeypatch)
    run_experiment(cfg, out, networks_per_task=2, processes=1)
    entries = [json.loads(p.read_text()) for p in sorted(out.rglob(machine.MACHINES_FILE))]
    assert [[e["from_epoch"] for e in es] for es in entries] == [[0, 7]]
    log = (out / "run.log").read_text()
    assert "resumed at epoch 7" in log and "WARNING: trained on 2 machines" in log
    assert np.isfinite(open_loss(out)).all()


def open_loss(out):
    from ghostmech.runs import open_run

    return open_run(out).metrics["loss"].values
