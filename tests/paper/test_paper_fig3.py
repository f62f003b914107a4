"""Figs. 3A-B quick runs, and the fixed-point counter against flow_1d on built flows."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.dynamics import flow_1d
from ghostmech.paper import available, fig3a, fig3b


@pytest.mark.parametrize("module", [fig3a, fig3b], ids=["fig3a", "fig3b"])
def test_quick_figure_passes(module, tmp_path):
    res = module.run(True, tmp_path, key=jax.random.PRNGKey(3))
    # decided at full size only: the bottleneck (quick networks stop at the ramp stage) and
    # the zero gradient of the trapped networks
    undecided = {"ghost_sets_the_delay", "confident_zero_output_no_gradient"}
    want = {c.id: "not-run" if c.id in undecided else "pass" for c in res.claims}
    assert {c.id: c.verdict for c in res.claims} == want
    assert res.files and all(f.exists() and f.stat().st_size > 0 for f in res.files)
    if module is fig3a:
        m = {c.id: c.measured for c in res.claims}
        assert m["abrupt_drop_with_ghost"]["final_kind"] in ("ghost", "shallow", "no_minimum")
        assert m["ghost_sets_the_delay"]["kind_at_end"] == m["abrupt_drop_with_ghost"]["final_kind"]


@pytest.mark.slow
def test_full_fig3a_ghost_sets_the_delay(tmp_path):
    """Paper size (minutes): the final DA trajectory passes a bottleneck (theory §4)."""
    res = fig3a.run(
        False, tmp_path, key=jax.random.fold_in(jax.random.PRNGKey(11), available().index("fig3a"))
    )
    c = {c.id: c for c in res.claims}["ghost_sets_the_delay"]
    assert c.verdict == "pass"
    assert c.measured["kind_after_drop"] in ("shallow", "no_minimum")  # the drop leaves a ramp
    m = c.measured
    assert abs(m["end_measured_in_bottleneck"] - m["end_predicted_in_bottleneck"]) <= 3


def _one_neuron_flow(w: float, b: float):
    """N = 1: F(κ) = −κ + tanh(w κ + b) (m = w, n = 1): 1 or 3 fixed points by w and b."""
    return np.array([w]), np.array([1.0]), np.array([b])


@pytest.mark.parametrize(("w", "b", "expected"), [(0.5, 0.0, 1), (2.0, 0.0, 3), (2.0, 1.5, 1)])
def test_count_fixed_points_matches_flow_1d(w, b, expected):
    m, n, bb = _one_neuron_flow(w, b)
    with jax.enable_x64(True):
        fl = flow_1d(lambda k: -k + jnp.tanh(w * k + b), -3.0, 3.0)
    n_flow = sum(k != "ghost" for k in fl.kinds())
    assert fig3a.count_fixed_points(m, n, bb) == n_flow == expected


def test_trap_claim_is_a_fisher_test_and_fails_without_a_difference():
    counts = {0: 1, 10: 3}
    z, loss = np.zeros(40), np.ones(10)
    above = np.array([True] * 12 + [False] * 12)
    below = np.zeros(24, bool)
    ok = [True] * 12
    claim = fig3b._claims(counts, z, 0.0, above, loss, below, ok)[2]
    assert claim.verdict == "pass" and claim.measured["trapped_lr_0.02"] == "12/24"
    assert claim.measured["p_fisher"] < 1e-3
    same = fig3b._claims(counts, z, 0.0, above, loss, above.copy(), ok)[2]
    assert same.verdict == "fail" and same.measured["p_fisher"] > 0.5


@pytest.mark.parametrize(
    ("ok", "verdict"),
    [([True] * 11 + [False], "pass"), ([True] * 8 + [False] * 4, "fail"), ([True] * 4, "fail")],
)
def test_zero_gradient_claim_is_a_binomial_test_over_trapped_networks(ok, verdict):
    """11/12 is p = 0.003; 8/12 is p = 0.19; 4/4 is p = 0.0625 (too few to say 'most')."""
    claim = fig3b._claims(
        {0: 1, 10: 3}, np.zeros(40), 1.0, np.ones(24, bool), np.ones(10), np.zeros(24, bool), ok
    )[1]
    assert claim.verdict == verdict
    assert claim.measured["trapped_with_zero_output_and_gradient"] == f"{sum(ok)}/{len(ok)}"


def test_zero_gradient_claim_is_decided_at_full_size_only():
    args = ({0: 1, 10: 3}, np.zeros(40), 1.0, np.ones(24, bool), np.ones(10), np.zeros(24, bool))
    claim = fig3b._claims(*args, [True] * 11 + [False], quick=True)[1]
    assert claim.verdict == "not-run" and claim.measured["p_binomial"] < 0.01
