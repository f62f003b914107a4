"""Fig. 7: the critical-lr rule, the saturation measure against a hand computation, quick runs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.networks import make_preset
from ghostmech.paper import fig7a, fig7c
from ghostmech.tasks import make_task
from ghostmech.training.detect import critical_lr


def _eta_c(lrs, frac_trapped):
    """Fig. 7's η_c: `detect.critical_lr`, rule "sustained" at `fig7a.MAJORITY`."""
    return critical_lr(lrs, frac_trapped, level=fig7a.MAJORITY, rule="sustained").hi


def test_critical_lr_is_the_start_of_the_trapped_tail():
    lrs = np.array([0.01, 0.1, 1.0, 10.0])
    assert _eta_c(lrs, np.array([0, 0.6, 0.3, 1.0])) == 10.0  # 0.6 not sustained
    assert _eta_c(lrs, np.array([0, 0.0, 0.5, 1.0])) == 1.0
    assert np.isnan(_eta_c(lrs, np.zeros(4)))


def test_saturation_matches_an_explicit_loop():
    task = make_task("dcd", input=2, delay=3, response=2)
    net = make_preset("fig7_dcd", key=jax.random.key(3), n=6)
    net = eqx.tree_at(lambda n: n.w, net, 3.0 * net.w)  # some saturation
    stacked = jax.tree.map(lambda a: a[None] if eqx.is_array(a) else a, net)
    got = fig7a.saturation(stacked, task)[0]
    tp, big, phi = [], [], []
    for u in np.asarray(task.all_trials().inputs).transpose(1, 0, 2):
        r = np.asarray(net.r0, float)
        for t in range(u.shape[0]):  # read = "before": z[t] sees r_t
            h = np.tanh(np.asarray(net.w) @ r + np.asarray(net.w_in) @ u[t] + np.asarray(net.b))
            z = np.tanh(np.asarray(net.readout.w_out) @ r + np.asarray(net.readout.b_out))
            tp.append(1 - h**2)
            big.append(np.abs(r) > 0.99)
            phi.append(1 - z**2)
            r = 0.5 * r + 0.5 * h
    want = [np.mean(tp), np.mean(big), np.mean(phi)]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert jnp.isfinite(got).all()


@pytest.mark.parametrize("module", [fig7a, fig7c], ids=["dmts", "dcd"])
def test_quick_claims_pass(module, tmp_path):
    result = module.run(True, tmp_path, key=jax.random.key(0))
    ids = ["critical_lr", "sweep_trapped_not_saturated_beyond_paper"]
    ids += ["trapped_not_saturated"] if module is fig7a else []
    assert {c.id: c.verdict for c in result.claims} == dict.fromkeys(ids, "pass")
    crit = result.claims[0].measured
    assert crit["p_binomial_trapped"] <= 0.05 and crit["p_fisher_learned"] <= 0.05


def _outcomes(learned, trapped):
    learned, trapped = np.asarray(learned, bool), np.asarray(trapped, bool)
    return {"learned": learned, "trapped": trapped, "loss": np.zeros(learned.shape), "l_zero": 1.0}


def test_critical_claim_tests_and_its_negative_controls():
    lrs = np.array([0.01, 0.1, 1.0, 10.0])
    L, T = [[0] * 4, [1] * 4, [0] * 4, [0] * 4], [[0] * 4, [0] * 4, [1] * 4, [1] * 4]
    claim, eta_c = fig7a._critical_claim(_outcomes(L, T), lrs)
    assert eta_c == 1.0 and claim.verdict == "pass"
    assert claim.measured["trapped_at_and_above_critical_lr"] == "8/8"
    # 5/8 trapped above η_c is p = 0.36 for "more often than not": fails
    T2 = [[0] * 4, [0] * 4, [1, 1, 0, 0], [1, 1, 1, 0]]
    assert fig7a._critical_claim(_outcomes(L, T2), lrs)[0].verdict == "fail"
    # learning below η_c no better than above it: fails
    L3 = [[0] * 4, [1, 0, 0, 0], [0] * 4, [0] * 4]
    assert fig7a._critical_claim(_outcomes(L3, T), lrs)[0].verdict == "fail"
