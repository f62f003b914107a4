"""``ghostmech sweep`` / ``train`` / ``configs`` end to end (tiny grid, same shapes as tests/runs)."""

from __future__ import annotations

import numpy as np

from ghostmech import open_run
from ghostmech.cli import main

# The shipped fig6a_rank1 quick config, shrunk to the tiny grid of tests/runs (whose kernel
# test also uses chunks of 10, so the kernel compiles once per grid size).
SHRINK = [
    "--set", "network.n=8",
    "--set", "task.timings={delay=25, response=25}",  # ms, 5 steps each
    "--set", "training.epochs=20",
    "--set", "training.chunk=10",
    "--set", "grid.lr=[0.01, 0.1]",
    "--set", "grid.seed=2",
    "--set", "checkpoints.every=10",
]  # fmt: skip


def test_sweep_of_a_shipped_name_writes_a_store_open_run_reads(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["sweep", "fig6a_rank1", "--quick", "--out", str(out), *SHRINK]) == 0
    text = capsys.readouterr().out
    assert "memory estimate" in text and "wrote" in text
    run = open_run(out)
    ds = run.metrics
    assert dict(ds["loss"].sizes) == {"lr": 2, "seed": 2, "epoch": 20}
    np.testing.assert_array_equal(ds["lr"], [0.01, 0.1])
    np.testing.assert_array_equal(ds["seed"], [0, 1])
    assert run.config.network.n == 8 and run.config.task.steps() == {"delay": 5, "response": 5}
    assert run.checkpoint(20, lr=0.1, seed=0).m.shape == (8, 1)

    assert main(["sweep", "fig6a_rank1", "--quick", "--out", str(out), *SHRINK]) == 0
    assert "already finished; nothing to do" in capsys.readouterr().out

    rc = main(
        ["sweep", "fig6a_rank1", "--quick", "--out", str(out), *SHRINK, "--set", "grid.seed=3"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "different config" in err and "grid.seed" in err and "Traceback" not in err


def test_train_runs_the_one_network_a_sweep_runs_at_that_point(tmp_path):
    sweep_out, one_out = tmp_path / "grid", tmp_path / "one"
    assert main(["sweep", "fig6a_rank1", "--quick", "--out", str(sweep_out), *SHRINK]) == 0
    args = ["train", "fig6a_rank1", "--quick", "--out", str(one_out), *SHRINK,
            "--set", "training.lr=0.1", "--set", "training.seed=1"]  # fmt: skip
    assert main(args) == 0
    one = open_run(one_out).metrics
    assert dict(one["loss"].sizes) == {"lr": 1, "seed": 1, "epoch": 20}
    assert one["lr"].values.tolist() == [0.1] and one["seed"].values.tolist() == [1]
    grid = open_run(sweep_out).metrics["loss"].sel(lr=0.1, seed=1).values
    # one network vs the same network inside a vmapped grid: equal up to float32 summation order
    np.testing.assert_allclose(one["loss"].values[0, 0], grid, rtol=1e-5)


def test_bad_config_and_memory_refusal_are_one_line_errors(tmp_path, capsys):
    rc = main(
        ["sweep", "fig6a_rank1", "--quick", "--out", str(tmp_path / "a"), "--set", "network.rank=0"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "network.rank" in err and "Traceback" not in err
    rc = main(["sweep", "fig6a_rank1", "--quick", "--out", str(tmp_path / "b"), *SHRINK,
               "--memory-limit-gb", "1e-6"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "the grid needs about" in err and "4 networks" in err
    assert not (tmp_path / "b").exists()


def test_configs_lists_every_shipped_experiment(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    for name in ("fig3a", "fig6a_rank1", "fig6b", "fig8c"):
        assert name in out
