"""Run directories: chunked writing, resume bit-identical, refusals, memory estimate.

All runs here share one tiny grid (2 lr x 2 seeds of rank-1 DA networks, N = 8,
5 + 5 steps, chunks of 7 epochs) so the training program compiles once.
"""

from __future__ import annotations

import json

import equinox as eqx
import jax
import numpy as np
import pytest
import xarray as xr

from ghostmech.runs import (
    MemoryLimitError,
    RunDirError,
    apply_overrides,
    config_from_dict,
    estimate_memory,
    open_run,
    resolve_grid,
    run_experiment,
)
from ghostmech.runs.factory import make_task, resolve_batch
from ghostmech.training.losses import loss_and_metrics

TINY = {
    "name": "tiny",
    "task": {"name": "da", "timings": {"delay": 5, "response": 5}},
    "network": {"preset": "fig6a_rank1", "n": 8},
    "training": {"epochs": 20, "chunk": 7, "backend": "vmap"},
    "grid": {"lr": [0.01, 0.1], "seed": 2},
    "checkpoints": {"every": 10},
}


def tiny(*overrides: str):
    return config_from_dict(apply_overrides(TINY, list(overrides)))


class Stop(Exception):
    pass


def _interrupt_after(n_chunks: int):
    seen = []

    def hook(part, epoch):
        seen.append(epoch)
        if len(seen) == n_chunks:
            raise Stop

    return hook


def _files(path):
    return {p.relative_to(path): p for p in path.rglob("*.npz")}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """An uninterrupted run of the tiny grid."""
    out = tmp_path_factory.mktemp("fresh") / "run"
    return run_experiment(tiny(), out)


def test_store_has_dims_coords_units_and_version(fresh):
    ds = fresh.metrics
    assert fresh.status == "finished"
    assert ds["loss"].dims == ("lr", "seed", "epoch")
    assert ds["status"].dims == ("lr", "seed")
    np.testing.assert_array_equal(ds["lr"], [0.01, 0.1])
    np.testing.assert_array_equal(ds["seed"], [0, 1])
    np.testing.assert_array_equal(ds["epoch"], np.arange(20))
    assert ds.attrs["ghostmech_version"] == __import__("ghostmech").__version__
    assert ds["accuracy"].attrs["units"] == "fraction" and ds["lr"].attrs["units"] == "1"
    assert np.all(np.isfinite(ds["loss"].values)) and np.all(ds["status"].values == 0)
    assert fresh.checkpoint_epochs() == [0, 10, 20]
    assert (fresh.path / "run.log").read_text().count("finished") == 1


@eqx.filter_jit
def _loss(net, batch, task):
    """The loss of one network (no noise), computed outside `ghostmech.runs`."""
    return loss_and_metrics(net, batch, key=jax.random.key(0), task=task)[0]


def test_metrics_match_an_independent_forward_pass_of_the_checkpoints(fresh):
    """loss[lr, seed, e] is the loss of the checkpointed network after e updates."""
    task = make_task(fresh.config)
    batch = resolve_batch(fresh.config, task)
    stored_loss = fresh.metrics["loss"].load()
    for lr in (0.01, 0.1):
        for seed in (0, 1):
            for epoch in (0, 10):
                net = fresh.checkpoint(epoch, lr=lr, seed=seed)
                loss = _loss(net, batch, task)
                stored = stored_loss.sel(lr=lr, seed=seed, epoch=epoch).item()
                assert stored == pytest.approx(float(loss), rel=1e-5)  # float32, other op order


def test_seed_fixes_the_network_and_lr_the_step(fresh):
    """Same seed -> same initial network at every lr; training descends the loss."""
    stacked = fresh.checkpoint(0)  # arrays [lr, seed, ...]
    np.testing.assert_array_equal(stacked.m[0, 1], stacked.m[1, 1])
    assert not np.array_equal(stacked.m[0, 0], stacked.m[0, 1])
    net0 = fresh.checkpoint(0, lr=0.1, seed=1)
    moved = {lr: fresh.checkpoint(10, lr=lr, seed=1).m - net0.m for lr in (0.01, 0.1)}
    loss = fresh.metrics["loss"].sel(lr=0.1, seed=1).values
    assert loss[10] < loss[0]  # descending
    # on the plateau (10 tiny steps) the displacement is ~10 lr grad: 10x larger at 10x the lr
    ratio = np.linalg.norm(moved[0.1]) / np.linalg.norm(moved[0.01])
    assert ratio == pytest.approx(10.0, rel=0.05)


def test_kernel_backend_agrees_with_the_generic_program(fresh, tmp_path):
    """The fused rank-one DA kernel (backend "kernel") is a second implementation of the step."""
    run = run_experiment(tiny("training.backend='kernel'", "training.chunk=10"), tmp_path / "run")
    for name in ("loss", "grad_norm"):
        np.testing.assert_allclose(run.metrics[name], fresh.metrics[name], rtol=1e-4)
    assert np.all(np.isnan(run.metrics["accuracy"]))  # the kernel does not compute it
    np.testing.assert_allclose(run.checkpoint(20).m, fresh.checkpoint(20).m, rtol=1e-4, atol=1e-7)


def test_kernel_is_refused_where_it_does_not_apply(tmp_path):
    with pytest.raises(ValueError, match=r"training.backend \(='kernel'\)"):
        run_experiment(tiny("training.backend='kernel'", "training.optimizer='adam'"), tmp_path)
    with pytest.raises(ValueError, match=r"without clip_norm"):
        run_experiment(tiny("training.backend='kernel'", "training.clip_norm=1.0"), tmp_path)


def test_resume_after_interruption_is_bit_identical(fresh, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Stop):
        run_experiment(tiny(), out, on_chunk=_interrupt_after(2))
    part = open_run(out)
    assert part.status == "incomplete"
    assert json.loads((out / "progress.json").read_text())["parts"] == {"all": 10}
    loss = part.metrics["loss"].values
    assert np.all(np.isfinite(loss[..., :10])) and np.all(np.isnan(loss[..., 10:]))

    done = run_experiment(tiny(), out)
    assert done.status == "finished"
    xr.testing.assert_identical(done.metrics.load(), fresh.metrics.load())
    ours, theirs = _files(out), _files(fresh.path)
    assert ours.keys() == theirs.keys()
    for name in ours:
        with np.load(ours[name]) as a, np.load(theirs[name]) as b:
            assert a.files == b.files
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k])
    assert "resuming" in (out / "run.log").read_text()


def test_finished_run_is_not_rerun(fresh):
    before = {
        p: p.stat().st_mtime_ns
        for p in fresh.path.rglob("*")
        if p.is_file() and p.name != "run.log"
    }
    again = run_experiment(tiny(), fresh.path)
    assert again.status == "finished"
    after = {
        p: p.stat().st_mtime_ns
        for p in fresh.path.rglob("*")
        if p.is_file() and p.name != "run.log"
    }
    assert after == before
    assert "nothing to do" in (fresh.path / "run.log").read_text()


def test_a_different_config_is_refused_and_nothing_is_overwritten(fresh):
    before = fresh.metrics.load()
    with pytest.raises(RunDirError, match=r"different config.*grid\.lr"):
        run_experiment(tiny("grid.lr=[0.01, 0.2]"), fresh.path)
    xr.testing.assert_identical(open_run(fresh.path).metrics.load(), before)


def test_a_foreign_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not a ghostmech run directory"):
        run_experiment(tiny(), tmp_path)


def test_memory_estimate_follows_the_formula_and_refuses_above_the_limit(tmp_path):
    cfg = tiny()
    est = estimate_memory(cfg, resolve_grid(cfg))
    n, steps, trials = 8, 10, 1  # DA: one trial type
    arrays = 8 + 8 + 8 + 8 + 8 + 1 + 1 + 1  # m, nT, w_in, b, r0, beta, theta, noise_std
    per_net = 4 * (arrays * 3 + 3 * steps * trials * n + 3 * 7)  # SGD: no optimiser slots
    assert est.bytes == 4 * per_net
    doubled = tiny("grid.seed=4")
    assert estimate_memory(doubled, resolve_grid(doubled)).bytes == 2 * est.bytes
    out = tmp_path / "run"
    with pytest.raises(MemoryLimitError, match=r"4 networks .* above the memory limit"):
        run_experiment(cfg, out, memory_limit_gb=est.bytes / 2 / 1024**3)
    assert not out.exists()


def test_bad_intervention_path_fails_before_anything_is_written(tmp_path):
    cfg = tiny("interventions=[{epoch=5, kind='set_value', path='readout.gamma', value=1.0}]")
    with pytest.raises(ValueError, match="readout.gamma"):
        run_experiment(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_intervention_reads_its_value_from_a_grid_axis(tmp_path):
    """Fig. 8B style: β set from the `beta_after` axis at epoch 10 (checkpoint taken before)."""
    cfg = tiny(
        "grid.lr=[0.01]",
        "grid.axes={beta_after=[0.5, 2.0]}",
        "interventions=[{epoch=10, kind='set_value', path='readout.beta', value='beta_after'}]",
    )
    run = run_experiment(cfg, tmp_path / "run")
    assert run.metrics["loss"].dims == ("lr", "seed", "beta_after", "epoch")
    np.testing.assert_array_equal(run.checkpoint(10).readout.beta, 10.0)  # the preset's β
    np.testing.assert_allclose(run.checkpoint(20).readout.beta[0, 0], [0.5, 2.0])
    loss = run.metrics["loss"].values[0]  # [seed, beta_after, epoch]
    np.testing.assert_array_equal(loss[:, 0, :10], loss[:, 1, :10])  # same network until e = 10
    assert np.all(loss[:, 0, 10:] != loss[:, 1, 10:])


@pytest.mark.slow
def test_rank_parts_are_stored_along_rank_and_resume(tmp_path):
    cfg = tiny("network.preset=fig6b", "grid.rank=[1, 2]", "grid.lr=[0.1]")
    with pytest.raises(Stop):  # 3 chunks per part: stop inside the second part
        run_experiment(cfg, tmp_path / "a", on_chunk=_interrupt_after(4))
    resumed = run_experiment(cfg, tmp_path / "a")
    fresh = run_experiment(cfg, tmp_path / "b")
    xr.testing.assert_identical(resumed.metrics.load(), fresh.metrics.load())
    assert resumed.metrics["loss"].dims == ("rank", "lr", "seed", "epoch")
    assert list(resumed.metrics["rank"].values) == [1, 2]
    assert resumed.checkpoint(20, rank=2, lr=0.1, seed=0).m.shape == (8, 2)


def test_identical_trials_run_once_and_the_stored_loss_is_the_full_batch_loss(tmp_path):
    """DCD, 4 copies of each trial type, σ = 0: the executors train on the 2 distinct
    trials (weighted), and every stored loss equals the full batch's, computed here."""
    from ghostmech.runs.factory import training_batch
    from ghostmech.training.distinct_trials import Deduped

    cfg = tiny(
        "task={name='dcd', timings={input=1, delay=3, response=3}, batch={repeat=4}}",
        "network.preset='fig7_dcd'",
        "training.epochs=6",
        "training.chunk=3",
        "grid.lr=[0.5]",
        "grid.seed=1",
        "checkpoints.every=3",
    )
    task = make_task(cfg)
    assert isinstance(training_batch(cfg, task), Deduped)
    run = run_experiment(cfg, tmp_path / "dcd")
    full = resolve_batch(cfg, task)
    assert full.n_trials == 8
    loss = run.metrics["loss"].load()
    for epoch in (0, 3):
        net = run.checkpoint(epoch, lr=0.5, seed=0)
        want = float(_loss(net, full, task))
        assert loss.sel(lr=0.5, seed=0, epoch=epoch).item() == pytest.approx(want, rel=1e-5)
    assert loss.sel(epoch=5).item() != loss.sel(epoch=0).item()  # it trained


def test_clip_norm_from_the_config_reaches_the_optimizer(fresh, tmp_path):
    """training.clip_norm = c: every update moves the parameters by at most lr·c."""
    run = run_experiment(tiny("training.clip_norm=1e-6"), tmp_path / "clip")
    for lr in (0.01, 0.1):
        start, end = run.checkpoint(0, lr=lr, seed=0), run.checkpoint(10, lr=lr, seed=0)
        step = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(
            jax.tree.leaves(eqx.filter(end, eqx.is_array)),
            jax.tree.leaves(eqx.filter(start, eqx.is_array)), strict=True)))  # fmt: skip
        assert step <= 10 * lr * 1e-6 * 1.001
        plain = fresh.checkpoint(10, lr=lr, seed=0)
        assert np.abs(plain.m - start.m).max() > 100 * np.abs(end.m - start.m).max()


def test_first_runs_the_named_ranks_blocks_first_with_the_same_bits(tmp_path):
    """``first`` (``ghostmech sweep --first``) reorders the blocks: the named rank's
    blocks finish before the others (run.log), and every metric is bitwise that of the
    same blocked run in part order. Negative controls: a rank the grid does not have, and
    ``first`` on a grid without ranks, are refused before anything is written."""
    cfg = tiny("network.preset=fig6b", "grid.rank=[1, 2]", "grid.lr=[0.1]", "training.epochs=7")
    plain = run_experiment(cfg, tmp_path / "plain", networks_per_task=1, processes=1)
    ordered = run_experiment(cfg, tmp_path / "first", networks_per_task=1, processes=1,
                             first=[2])  # fmt: skip
    xr.testing.assert_identical(ordered.metrics.load(), plain.metrics.load())

    def done(run):
        lines = (run.path / "run.log").read_text().splitlines()
        return [line.split()[2].split("/")[0] for line in lines if " done: " in line]

    assert done(plain) == ["rank_1", "rank_1", "rank_2", "rank_2"]
    assert done(ordered) == ["rank_2", "rank_2", "rank_1", "rank_1"]
    with pytest.raises(ValueError, match=r"`first` \(=3\): not a rank of this grid"):
        run_experiment(cfg, tmp_path / "bad", networks_per_task=1, processes=1, first=[3])
    assert not (tmp_path / "bad" / "progress.json").exists()
    with pytest.raises(ValueError, match="no rank parts"):
        run_experiment(tiny(), tmp_path / "norank", networks_per_task=1, processes=1, first=[1])
