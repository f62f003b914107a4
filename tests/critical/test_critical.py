"""ghostmech.critical: predictors against answers known independently, statistics, CLI."""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech import canonical as gc
from ghostmech.cli import main
from ghostmech.critical.curvature import hvp_fn, lanczos_max, lanczos_max_batch
from ghostmech.critical.measure import (
    measure_rank1_da,
    outcomes_from_history,
    rank1_params,
    summarise,
)
from ghostmech.critical.overshoot import overshoot_lr
from ghostmech.critical.path import gradient_flow_path
from ghostmech.critical.problem import make_problem
from ghostmech.critical.projection import (
    crossing_step,
    ghost_epsilon,
    output_crossing_step,
    projected_lr,
)
from ghostmech.critical.stats import crossing, fit_exponent, monotone, wilson
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation
from ghostmech.training.kernels import train_rank1_da_chunk


# ---- statistics -----------------------------------------------------------------------
def test_wilson_matches_closed_form_and_contains_p():
    # k = 0: upper bound z²/(n + z²) exactly
    z = 1.959963984540054
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(z * z / (10 + z * z), rel=1e-12)
    lo, hi = wilson(5, 10)  # symmetric about ½
    assert lo == pytest.approx(1 - hi, rel=1e-12) and lo < 0.5 < hi
    assert wilson(0, 0) == (0.0, 1.0)  # no network decided: uninformative


def test_monotone_is_the_least_squares_isotonic_fit():
    f, w = np.array([0.0, 0.5, 0.25, 1.0]), np.ones(4)
    assert np.allclose(monotone(f, w), [0.0, 0.375, 0.375, 1.0])
    assert np.all(np.diff(monotone(np.random.default_rng(0).random(20), np.ones(20))) >= 0)


def test_crossing_planted_and_out_of_grid():
    lrs = np.logspace(-3, 0, 7)
    assert crossing(lrs, [0, 0, 0, 2, 4, 4, 4], [4] * 7)[0] == pytest.approx(lrs[3])
    # the fraction never reaches ½ inside the grid: no crossing (negative control)
    assert math.isnan(crossing(lrs, [0, 0, 0, 0, 0, 1, 1], [4] * 7)[0])


def test_exponent_recovers_planted_power_law_with_interval():
    delays = np.array([10, 20, 40, 80])
    rng = np.random.default_rng(1)
    etas = 0.3 * delays**-2.0
    samples = [e * np.exp(0.05 * rng.standard_normal(500)) for e in etas]
    p, lo, hi = fit_exponent(delays, etas, samples)
    assert p == pytest.approx(-2.0) and lo < -2.0 < hi and hi - lo < 0.3
    assert not lo < -4.0 < hi  # the canonical exponent is excluded


def test_outcomes_first_trap_wins_final_loss_decides_learned():
    loss = np.array([[1.0, 0.05, 0.05], [1.0, 0.05, 1.0], [1.0, 1.0, 1.0], [1.0, 0.5, 0.5]])
    grad = np.array([[1e-3, 1.0, 1.0], [1e-3, 1.0, 1e-9], [1e-3, 1e-3, 1e-3], [1e-3] * 3])
    out, drop = outcomes_from_history(loss, grad)
    assert out[0] == 0 and out[1] == 1  # learned, then trapped: counts as trapped
    assert np.isnan(out[2]) and np.isnan(out[3])  # still on the plateau / above 0.1
    assert drop.tolist() == [1, 1, -1, -1]
    m = summarise(
        [0.1, 0.2, 0.4, 0.8], np.array([[0, 0], [0, 0], [1, 1], [1, 1]]), np.zeros((4, 2))
    )
    assert m.status == "ok" and m.ci[0] <= m.eta_c <= m.ci[1]
    assert m.ci[0] <= 0.2 and m.ci[1] >= 0.4  # at least the bracketing grid cell


def test_measurement_through_drive_equals_outcomes_of_the_whole_histories():
    """`measure_rank1_da` (through `drive`, decided networks retired) against a second
    path: every network trained for the longest budget by the kernel, chunk after
    chunk, and judged by `outcomes_from_history` on its history cut at its own budget
    (``ceil(150 / lr)`` rounded up to whole chunks of 200). Same outcomes and drop
    epochs: retiring changes no network's numbers, only how long the run is."""
    lrs, seeds, key, chunk = np.array([0.1, 0.2, 0.4, 0.8]), 3, jax.random.key(1), 200
    m = measure_rank1_da(lrs, key=key, delay=5, n_seeds=seeds, budget=150, chunk=chunk)
    params = [jnp.tile(a, (lrs.size, 1)) for a in rank1_params(jax.random.split(key, seeds))]
    lr = jnp.asarray(np.repeat(lrs, seeds), jnp.float32)
    budget = chunk * -(-np.ceil(150 / np.repeat(lrs, seeds)).astype(int) // chunk)
    loss, grad = [], []
    for _ in range(budget.max() // chunk):
        p, met = train_rank1_da_chunk(*params, lr, epochs=chunk, delay=5, response=5)
        params = [p[k] for k in "mnb"]
        loss.append(met["loss"])
        grad.append(met["grad_norm"])
    loss, grad = np.concatenate(loss, 1), np.concatenate(grad, 1)
    ref = [
        outcomes_from_history(loss[g, : budget[g]], grad[g, : budget[g]]) for g in range(lr.size)
    ]
    out = np.array([r[0] for r in ref]).reshape(m.outcome.shape)
    drop = np.array([r[1] for r in ref]).reshape(m.epochs.shape)
    np.testing.assert_array_equal(m.outcome, out)
    np.testing.assert_array_equal(m.epochs, drop)
    assert (out == 0).any() and (out == 1).any()  # both verdicts are exercised


# ---- curvature: Lanczos against the dense Hessian ------------------------------------
def _tiny_problem(rank=1, n=6, delay=3):
    preset = "fig6a_rank1" if rank == 1 else "fig6a_full"
    net = make_preset(preset, key=jax.random.key(3), n=n)
    return make_problem(net, DelayedActivation(delay, delay))


def test_lanczos_matches_dense_hessian_eigvalsh():
    with jax.enable_x64(True):
        prob = _tiny_problem(rank=1)
        th = prob.theta0 + 0.3 * jax.random.normal(jax.random.key(1), prob.theta0.shape)
        dense = np.linalg.eigvalsh(np.asarray(jax.hessian(prob.loss)(th)))
        lam = lanczos_max(hvp_fn(prob.loss), th, key=jax.random.key(0), iters=th.shape[0])
        batch = lanczos_max_batch(
            prob.loss, jnp.stack([th, th]), key=jax.random.key(0), iters=th.shape[0]
        )
        assert lam == pytest.approx(dense[-1], rel=1e-8)
        assert np.allclose(batch, dense[-1], rtol=1e-8)
        # negative control: one Lanczos step is a Rayleigh quotient, strictly below λ_max
        one = lanczos_max(hvp_fn(prob.loss), th, key=jax.random.key(0), iters=1)
        assert one < dense[-1] * (1 - 1e-3)


# ---- projections and overshoot on the canonical model (Eq. 23 exactly) ---------------
def test_overshoot_on_canonical_model_is_eq23():
    T = 100.0
    with jax.enable_x64(True):
        e_star, e_zero = gc.optimum(T), gc.point_of_no_return(T)

        def loss(th):
            return gc.loss(th[0], T, scale="per_T")

        eta = overshoot_lr(
            loss,
            jnp.array([e_star * (1 + 1e-9)]),
            trapped=lambda th: th[0] <= e_zero,
            lo=1e-12,
            hi=1e-4,
            n_bisect=60,
        )
    assert eta == pytest.approx(gc.critical_lr(T, scale="per_T"), rel=1e-6)


def test_epsilon_projection_is_canonical_for_eps_itself_and_scales_with_grad():
    T = 50.0
    with jax.enable_x64(True):
        eta1, _, g1 = projected_lr(lambda t: t[0], jnp.array([1e-3]), time=T)
        eta3, _, g3 = projected_lr(lambda t: 3.0 * t[0] + t[1], jnp.array([1e-3, 0.0]), time=T)
    assert eta1 == gc.critical_lr(T, scale="per_T") and g1 == 1.0
    assert eta3 == pytest.approx(eta1 / 10.0, rel=1e-12) and g3 == pytest.approx(10.0)


def test_ghost_epsilon_value_and_implicit_gradient():
    # F(κ) = c + a(κ − k₀)²: ε = F F''/2 = a c, ∇ε = (c, a, 0) (independent of k₀)
    with jax.enable_x64(True):

        def eps(p):
            a, c, k0 = p
            return ghost_epsilon(lambda x: c + a * (x - k0) ** 2, lo=-2.0, hi=2.0)[0]

        p = jnp.array([1.5, 0.2, 0.4])
        val, grad = jax.value_and_grad(eps)(p)
        assert float(val) == pytest.approx(0.3, rel=1e-12)
        assert np.allclose(grad, [0.2, 1.5, 0.0], atol=1e-10)
        # no interior minimum: monotone flow (a ramp) is flagged
        assert not bool(ghost_epsilon(lambda x: 1.0 + 0.1 * x, lo=-1.0, hi=1.0)[2])


def test_crossing_step_gradient_matches_finite_differences():
    with jax.enable_x64(True):
        prob = _tiny_problem(rank=1, n=8, delay=6)
        path = gradient_flow_path(prob.loss, prob.theta0, step=0.02, max_steps=3000)
        th = jnp.asarray(path.thetas[-1])

        def t_star(t):
            return crossing_step(prob.net(t), steps=12)

        g = jax.grad(t_star)(th)
        v = jax.random.normal(jax.random.key(2), th.shape)
        h = 1e-6
        fd = (t_star(th + h * v) - t_star(th - h * v)) / (2 * h)
        assert float(t_star(th)) < 12  # the learned network crosses the threshold
        assert float(jnp.dot(g, v)) == pytest.approx(float(fd), rel=1e-5)
        # the output z = σ(β(κ_{t+1} − κ_θ)) crosses ½ at the same event (interpolated in
        # z instead of κ: within one step); at initialisation neither crosses (2T)
        t_out = output_crossing_step(prob.net(th), prob.task)
        assert abs(float(t_out) - float(t_star(th))) < 1.0
        assert float(output_crossing_step(prob.net(prob.theta0), prob.task)) == 12.0
        assert float(t_star(prob.theta0)) == 12.0


def test_path_reaches_learned_and_loss_decreases():
    with jax.enable_x64(True):
        prob = _tiny_problem(rank=1, n=8, delay=6)
        path = gradient_flow_path(prob.loss, prob.theta0, step=0.02, max_steps=3000)
    assert path.status == "ok" and path.loss[-1] < 0.05
    assert np.all(np.diff(path.loss) <= 0)  # a step that raises the loss is undone
    step = np.linalg.norm(np.diff(path.thetas, axis=0), axis=1)
    moved = step[step > 0]
    assert np.all(moved <= 0.02 * (1 + 1e-9)) and np.allclose(moved[:20], 0.02, rtol=1e-9)


# ---- CLI ---------------------------------------------------------------------------------
SMALL = [
    "--quick",
    "--set",
    "network.n=10",
    "--set",
    "task.timings.delay=25",
    "--set",
    "task.timings.response=25",
]


def test_cli_json_keys_with_measure(capsys):
    rc = main(
        ["critical-lr", "fig6a_rank1", *SMALL, "--json", "--measure", "--seeds", "2", "--lrs", "3"]
    )
    out = capsys.readouterr().out
    assert rc == 0
    obj = json.loads(out)
    assert isinstance(obj["predicted"], float) and obj["predicted"] > 0
    assert obj["binds"] in obj["predictors"]
    assert "measured" in obj and "ratio" in obj


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nonexistent_config"], "config"),
        (["fig6a_rank1", "--seeds", "0"], "--seeds"),
        (["fig8c", "--quick"], "optimizer"),
    ],
)
def test_cli_errors_are_one_line(capsys, args, needle):
    rc = main(["critical-lr", *args])
    cap = capsys.readouterr()
    assert rc == 2 and "Traceback" not in cap.err + cap.out
    assert cap.err.startswith("error:") and needle in cap.err
    assert len(cap.err.strip().splitlines()) == 1


@pytest.mark.slow  # a bench script, three subprocesses (≈ 30 s of CPU): not in CI
def test_measure_rank1_merge_adds_a_delay_to_the_record(tmp_path):
    """``bench.critical.measure_rank1 --merge``: a delay measured on its own grid joins the
    record already there. The merged record's delays equal those of two runs made apart
    (bit-equal outcomes) and both commands are listed. Negative control: without ``--merge``
    the second run replaces the record."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def measure(*args):  # a subprocess: bench pins threads before jax is imported
        cmd = [sys.executable, "-m", "bench.critical.measure_rank1", *args]
        subprocess.run(cmd, cwd=root, check=True, capture_output=True, timeout=600)

    common = ["--seeds", "2", "--n-lrs", "3", "--half", "0.3", "--budget", "40", "--chunk", "200"]
    first = [*common, "--delays", "5", "--centre", "0.3"]
    second = [*common, "--delays", "8", "--centre", "0.12"]
    merged, apart = tmp_path / "merged", tmp_path / "apart"
    measure(*first, "--out", str(merged))
    measure(*second, "--out", str(merged), "--merge")
    measure(*second, "--out", str(apart))
    rec = json.loads((merged / "rank1_da.json").read_text())
    alone = json.loads((apart / "rank1_da.json").read_text())
    assert sorted(rec["rank1"]) == ["5", "8"] and sorted(alone["rank1"]) == ["8"]
    assert rec["rank1"]["8"]["trapped"] == alone["rank1"]["8"]["trapped"]
    assert len(rec["commands"]) == 2
    raw = np.load(merged / "rank1_da.npz")
    np.testing.assert_array_equal(raw["outcome_T8"], np.load(apart / "rank1_da.npz")["outcome_T8"])
    assert "outcome_T5" in raw


def test_timing_calibration_is_the_recorded_ratio_at_t20():
    """`TIMING_CALIBRATION` is measured / timing at T = 20 of the committed rank-one record
    (docs/results/critical/validation.json, written by ``bench.critical.report`` from
    rank1_da.json) to two decimals, so the constant cannot drift from the measurement it
    comes from."""
    from pathlib import Path

    from ghostmech.critical import TIMING_CALIBRATION

    root = Path(__file__).resolve().parents[2] / "docs" / "results" / "critical"
    val = json.loads((root / "validation.json").read_text())
    measured = json.loads((root / "rank1_da.json").read_text())["rank1"]["20"]["eta_c"]
    (row,) = [r for r in val["rows"] if r["family"] == "rank1" and r["T"] == 20]
    assert val["calibration"] == {
        "family": "rank1",
        "delay": 20,
        "c_timing": pytest.approx(measured / row["predicted"]["timing"]),
    }
    assert row["measured"] == measured
    assert TIMING_CALIBRATION == round(val["calibration"]["c_timing"], 2)
