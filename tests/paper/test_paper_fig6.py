"""Figs. 6A-B quick runs and the critical-lr reading of a fraction-learned curve."""

import dataclasses
import math

import jax
import numpy as np
import pytest

from ghostmech.paper import fig6a, fig6b
from ghostmech.paper.critical_delay import critical_from_fraction
from ghostmech.stats import fisher_power

QUICK_VERDICTS = {
    "fig6a": {"critical_lr_rank1_vs_full": "pass"},
    # trapped-less is decided at full size only (the quick run cannot show it)
    "fig6b": {"more_ranks_learn_faster": "pass", "more_ranks_trapped_less": "not-run"},
}


@pytest.mark.parametrize("module", [fig6a, fig6b], ids=["fig6a", "fig6b"])
def test_quick_figure_passes(module, tmp_path):
    res = module.run(True, tmp_path, key=jax.random.PRNGKey(3))
    assert {c.id: c.verdict for c in res.claims} == QUICK_VERDICTS[res.figure]
    assert all(f.exists() for f in res.files)


def test_fig6a_ratio_interval_rules():
    eta = (1.0, 1.0, 1.0)
    r1 = np.array([0.05, 0.06, 0.05, 0.055, 0.05])
    full = 100 * r1[::-1]  # two decades
    assert fig6a._claim(eta, eta, r1, full, 0.2).verdict == "pass"
    assert fig6a._claim(eta, eta, r1, 10**0.5 * r1, 0.2).verdict == "fail"  # half a decade
    assert fig6a._claim(eta, eta, r1, 10**0.5 * r1, 0.2, quick=True).verdict == "pass"
    assert fig6a._claim(eta, eta, r1, r1 / 3, 0.2, quick=True).verdict == "fail"  # lower
    few = np.array([0.05, np.nan, np.nan, np.nan, np.nan])
    assert fig6a._claim(eta, eta, few, full, 0.2).verdict == "fail"  # η_c for 1 of 5 seeds


def test_fig6b_claims_are_tests():
    def stats(censored, trapped):
        return {"censored": np.asarray(censored, float), "trapped": np.asarray(trapped, bool)}

    slow, fast = np.full((4, 6), 700.0), np.full((4, 6), 200.0)
    slow[0, 0] = 100.0  # not constant
    many = np.zeros((4, 6), bool)
    many[1:] = True
    few = np.zeros((4, 6), bool)
    c = fig6b._claims((1, 100), {1: stats(slow, many), 100: stats(fast, few)})
    assert [x.verdict for x in c] == ["pass", "pass"]
    c = fig6b._claims((1, 100), {1: stats(fast, few), 100: stats(slow, many)})
    assert [x.verdict for x in c] == ["fail", "fail"]  # negative control: reversed
    c = fig6b._claims((1, 100), {1: stats(slow, many), 100: stats(fast, few)}, quick=True)
    assert c[1].verdict == "not-run" and c[1].measured["p_fisher"] < 1e-6


def test_fig6b_trapped_is_decided_at_paper_sizes_with_enough_seeds():
    paper = fig6b.sizes(False)
    assert fig6b.trapped_decided(paper)
    assert fig6b.trapped_decided(dataclasses.replace(paper, ranks=(1, 100), n_seeds=5))
    assert fig6b.trapped_decided(dataclasses.replace(paper, n_seeds=3))
    # negative controls: too few networks for the power, or not the paper's delay / epochs / lrs
    assert not fig6b.trapped_decided(dataclasses.replace(paper, n_seeds=2))
    assert not fig6b.trapped_decided(dataclasses.replace(paper, epochs=paper.epochs // 2))
    assert not fig6b.trapped_decided(dataclasses.replace(paper, delay=paper.delay // 2))
    assert not fig6b.trapped_decided(dataclasses.replace(paper, ranks=(1, 10)))
    assert not fig6b.trapped_decided(fig6b.sizes(True))
    # the power the module docstring quotes
    p1, p2 = fig6b.TRAPPED_DESIGN
    quoted = {2: 0.77, 3: 0.92, 5: 0.99, 10: 1.00}
    for s, power in quoted.items():
        assert round(fisher_power(10 * s, p1, 10 * s, p2), 2) == power


def test_critical_lr_brackets_the_fall_after_the_peak():
    lrs = np.logspace(-3, 0, 7)
    frac = np.array([0.0, 0.2, 1.0, 0.9, 0.3, 0.0, 0.6])  # too slow, learns, trapped
    lo, hi, mid = critical_from_fraction(lrs, frac)
    assert (lo, hi) == (lrs[3], lrs[4])
    assert mid == pytest.approx(math.sqrt(lrs[3] * lrs[4]))
    assert all(math.isnan(x) for x in critical_from_fraction(lrs, np.full(7, 0.4)))
    assert all(math.isnan(x) for x in critical_from_fraction(lrs, np.ones(7)))


def test_epochs_to_learn():
    loss = np.array([[1.0, 0.5, 0.05, 0.01], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(fig6b.epochs_to_learn(loss), [2.0, np.nan])


TINY_SWEEP = ["grid.seed=2", "training.chunk=20", "checkpoints.every=40"]


@pytest.fixture(scope="module")
def tiny_sweeps(tmp_path_factory):
    """``ghostmech sweep fig6a_rank1 / fig6a_full --quick`` cut to 2 seeds and 40 / 20 epochs."""
    from ghostmech.runs import load_config, resolve_config, run_experiment

    out = tmp_path_factory.mktemp("sweeps")
    runs = []
    for name, epochs in (("fig6a_rank1", 40), ("fig6a_full", 20)):
        cfg = load_config(
            resolve_config(name, quick=True), [*TINY_SWEEP, f"training.epochs={epochs}"]
        )
        runs.append(run_experiment(cfg, out / name, processes=1))
    return runs


def test_fig6a_from_sweeps_reads_the_final_losses_of_each_lr_and_seed(tiny_sweeps, tmp_path):
    from ghostmech.networks import make_preset
    from ghostmech.tasks import DelayedActivation
    from ghostmech.training import sweep

    rank1, full = tiny_sweeps
    res = fig6a.run_from_sweeps(rank1, full, tmp_path)
    assert res.quick  # not the paper's sizes: only "higher" is judged
    assert all(f.exists() for f in res.files)
    size = fig6a.sizes_of(rank1.config, full.config)
    # independent path: the engine called directly with the grid seeds, no run directory
    direct = sweep(
        lambda k: make_preset("fig6a_full", key=k),
        DelayedActivation(size.delay, size.delay),
        lrs=list(np.logspace(*size.full_lrs)), seeds=[0, 1], epochs=20, chunk=20,
    )  # fmt: skip
    final_full = np.asarray(direct.metrics["loss"][..., -1])
    np.testing.assert_array_equal(full.metrics.loss.isel(epoch=-1).values, final_full)
    final1 = rank1.metrics.loss.isel(epoch=-1).values
    expect = fig6a._figure(size, final1, final_full, tmp_path / "direct", True).claims[0]
    assert str(res.claims[0].measured) == str(expect.measured)  # NaN-aware: same text
    assert res.claims[0].measured["seeds_with_eta_c_full"].endswith("/2")


def test_fig6a_from_sweeps_refuses_an_unfinished_run(tiny_sweeps, tmp_path):

    rank1, full = tiny_sweeps
    with pytest.raises(ValueError, match="`full`.*not finished"):
        fig6a.run_from_sweeps(rank1, dataclasses.replace(full, status="incomplete"), tmp_path)


def test_bench_script_records_the_sweeps_verdict(tiny_sweeps, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    rank1, full = tiny_sweeps
    cmd = [sys.executable, "-m", "bench.from_sweeps", "fig6a", str(rank1.path), str(full.path),
           "--out", str(tmp_path / "rec")]  # fmt: skip
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "rec" / "summary.json").read_text())
    claim = summary["figures"]["fig6a"]["claims"][0]
    assert summary["figures"]["fig6a"]["mode"] == "quick"  # not the paper's sizes
    assert claim["id"] == "critical_lr_rank1_vs_full" and claim["verdict"] in ("pass", "fail")
    assert (tmp_path / "rec" / "REPRODUCTION.md").is_file()


@pytest.fixture(scope="module")
def tiny_fig6b_sweep(tmp_path_factory):
    """``ghostmech sweep fig6b --quick`` cut to 2 seeds and 30 epochs."""
    from ghostmech.runs import load_config, resolve_config, run_experiment

    sets = ["grid.seed=2", "training.epochs=30", "training.chunk=30", "checkpoints.every=30"]
    cfg = load_config(resolve_config("fig6b", quick=True), sets)
    return run_experiment(cfg, tmp_path_factory.mktemp("fig6b") / "run", processes=1)


def test_fig6b_from_sweep_equals_the_engine_called_per_rank(tiny_fig6b_sweep, tmp_path):
    run = tiny_fig6b_sweep
    size = fig6b.sizes(True)
    size = fig6b.Sizes(size.ranks, size.lrs, 2, 30, size.delay)
    lrs = np.logspace(*size.lrs)
    # independent path: one engine sweep per rank with the grid seeds, no run directory
    stats = {
        k: fig6b.rank_stats(np.asarray(fig6b.train_rank(k, lrs, [0, 1], size)), 30)
        for k in size.ranks
    }
    direct = fig6b._figure(size.ranks, lrs, stats, tmp_path / "direct", True)
    res = fig6b.run_from_sweep(run, tmp_path)
    assert res.quick and all(f.exists() for f in res.files)
    assert str([c.measured for c in res.claims]) == str([c.measured for c in direct.claims])
    assert [c.verdict for c in res.claims][1] == "not-run"  # not the paper's sizes
    # negative control: another rank's losses give other numbers
    swapped = {size.ranks[0]: stats[size.ranks[-1]], size.ranks[-1]: stats[size.ranks[0]]}
    other = fig6b._figure(size.ranks, lrs, swapped, tmp_path / "swapped", True)
    assert str([c.measured for c in other.claims]) != str([c.measured for c in res.claims])


def test_fig6b_from_sweep_refuses_an_unfinished_run(tiny_fig6b_sweep, tmp_path):

    with pytest.raises(ValueError, match="`run`.*not finished"):
        fig6b.run_from_sweep(dataclasses.replace(tiny_fig6b_sweep, status="incomplete"), tmp_path)


def test_fig6b_partial_sweep_gives_the_finished_runs_claims(tmp_path):
    """``run_from_sweep(partial=True)`` on a run whose middle rank has not finished (the
    files a kill leaves: its blocks' markers and states removed) gives the claims of the
    finished run, which compare only the smallest and largest ranks. Negative controls: the
    same run without ``partial``, and with the largest rank unfinished, are refused."""
    import json
    import shutil

    from ghostmech.runs import load_config, open_run, resolve_config, run_experiment
    from ghostmech.runs.progress import finished_parts

    sets = ["grid.seed=2", "grid.rank=[1, 3, 100]", "training.epochs=30", "training.chunk=30",
            "checkpoints.every=30"]  # fmt: skip
    cfg = load_config(resolve_config("fig6b", quick=True), sets)
    run = run_experiment(cfg, tmp_path / "run", processes=1, networks_per_task=4)
    whole = fig6b.run_from_sweep(run, tmp_path / "whole")

    def kill(rank):
        for marker in (run.path / "blocks" / f"rank_{rank}").glob("block_*.done"):
            marker.unlink()
            shutil.rmtree(marker.with_suffix(""))
        progress = json.loads((run.path / "progress.json").read_text())
        (run.path / "progress.json").write_text(json.dumps(progress | {"finished": False}))
        return open_run(run.path)

    cut = kill(3)
    assert cut.status != "finished" and finished_parts(cut) == ["1", "100"]
    part = fig6b.run_from_sweep(cut, tmp_path / "part", partial=True)
    assert str([c.measured for c in part.claims]) == str([c.measured for c in whole.claims])
    assert [c.verdict for c in part.claims] == [c.verdict for c in whole.claims]
    with pytest.raises(ValueError, match="not finished"):
        fig6b.run_from_sweep(cut, tmp_path / "x")
    with pytest.raises(ValueError, match="ranks 1 and 100.*must both be finished"):
        fig6b.run_from_sweep(kill(100), tmp_path / "y", partial=True)


def test_fig6b_seeds_split_over_runs_give_the_one_run_result(tiny_fig6b_sweep, tmp_path):
    """Seeds 0 and 1 trained as two sweeps (``grid.seed=[1]`` and ``[0]``, given out of
    order) give the claims of the one sweep of both seeds: a network's key is its seed.
    Negative controls: a seed in two runs, and a run with another epoch count, are refused;
    a split run that leaves a seed out gives other numbers."""
    from ghostmech.runs import load_config, resolve_config, run_experiment

    base = ["training.epochs=30", "training.chunk=30", "checkpoints.every=30"]

    def sweep_of(seeds: str, *more: str):
        cfg = load_config(resolve_config("fig6b", quick=True), [f"grid.seed={seeds}", *base, *more])
        return run_experiment(cfg, tmp_path / f"run{seeds}{len(more)}", processes=1)

    one, zero = sweep_of("[1]"), sweep_of("[0]")
    whole = fig6b.run_from_sweep(tiny_fig6b_sweep, tmp_path / "whole")
    split = fig6b.run_from_sweep([one, zero], tmp_path / "split")
    assert str([c.measured for c in split.claims]) == str([c.measured for c in whole.claims])
    assert [c.verdict for c in split.claims] == [c.verdict for c in whole.claims]
    alone = fig6b.run_from_sweep([zero], tmp_path / "alone")
    assert str([c.measured for c in alone.claims]) != str([c.measured for c in whole.claims])
    with pytest.raises(ValueError, match="seed is in more than one sweep"):
        fig6b.run_from_sweep([zero, tiny_fig6b_sweep], tmp_path / "twice")
    longer = sweep_of("[2]", "training.epochs=60", "training.chunk=60", "checkpoints.every=60")
    with pytest.raises(ValueError, match="differs .* in more than grid.seed"):
        fig6b.run_from_sweep([zero, longer], tmp_path / "other")
    # the bench script takes the split runs too, and refuses a repeated seed in one line
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = [sys.executable, "-m", "bench.from_sweeps", "fig6b"]
    done = subprocess.run([*script, str(one.path), str(zero.path), "--out", str(tmp_path / "rec")],
                          cwd=root, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    claims = json.loads((tmp_path / "rec" / "summary.json").read_text())["figures"]["fig6b"]
    assert [c["measured"] for c in claims["claims"]] == [
        json.loads(json.dumps(c.measured)) for c in whole.claims
    ]
    bad = subprocess.run([*script, str(zero.path), str(zero.path), "--out", str(tmp_path / "x")],
                         cwd=root, capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "seed is in more than one sweep" in bad.stderr.strip().splitlines()[-1]
    # the per-lr record counts the split runs as the one run
    per_lr = [sys.executable, "-m", "bench.fig6b_partial"]
    recs = []
    for paths in ([one.path, zero.path], [tiny_fig6b_sweep.path]):
        got = subprocess.run([*per_lr, *map(str, paths)], cwd=root, capture_output=True,
                             text=True, check=False)  # fmt: skip
        assert got.returncode == 0, got.stderr
        recs.append(json.loads(got.stdout))
    assert recs[0]["ranks"] == recs[1]["ranks"] and len(recs[0]["progress"]) == 2
