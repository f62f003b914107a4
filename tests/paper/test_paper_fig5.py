"""Fig. 5: the closed-form ghost check on a hand-built flow, the bisection, and the quick runs.

The hand-built network has two decoupled units, W = diag(1, 0), b = (δ, 0),
so f₁(r) = α(−r₁ + tanh(r₁ + δ)), f₂ = −α r₂. At r* = (−δ, 0): f₁' = 0 and
f₁ = αδ ≠ 0 (a ghost of ε ∝ δ), and the other eigenvalue is exactly −α.
"""

from types import SimpleNamespace

import jax
import numpy as np
import pytest

from ghostmech.paper import fig5a, fig5c


def _net(delta, alpha=0.5):
    w = np.diag([1.0, 0.0])
    return SimpleNamespace(recurrent=lambda: w, b=np.array([delta, 0.0]), alpha=alpha)


def test_check_ghost_on_a_known_ghost():
    c = fig5a.check_ghost(_net(0.01), np.array([-0.01, 0.0]))
    assert c["zero_eig_ratio"] <= 1e-12
    assert c["max_other_real"] == pytest.approx(-0.5, rel=1e-12)
    assert c["speed_norm"] == pytest.approx(0.5 * 0.01, rel=1e-12)
    assert c["grad_q_ratio"] <= 1e-12
    assert fig5a._ok(c)


def test_check_ghost_rejects_a_point_off_the_ghost():
    c = fig5a.check_ghost(_net(0.01), np.array([1.0, 0.0]))  # f₁' = α(sech²(1.01) − 1) ≠ 0
    assert c["zero_eig_ratio"] > 0.1 and not fig5a._ok(c)


def test_scan_points_bisects_to_the_bifurcation(monkeypatch):
    """A fake finder whose fixed-point count is 1 before epoch 37 and 3 from it on."""

    class P:
        def __init__(self, e):
            self.e = e

        def count(self, *kinds):
            return 3 if self.e >= 37 else 1

    monkeypatch.setattr(fig5a, "find_points", lambda f, s: P(f))
    monkeypatch.setattr(fig5a, "from_network", lambda net: net)
    found = fig5a.scan_points({e: e for e in range(101)}, [0, 50, 100], np.zeros((1, 1)))
    assert {36, 37} <= set(found) and len(found) <= 3 + 8  # bisection, not a full scan


SLOW = pytest.mark.slow  # 45 s on a loaded 2-core machine: outside the CI budget


@pytest.mark.parametrize("module", [fig5a, pytest.param(fig5c, marks=SLOW)], ids=["dcd", "dmts"])
def test_quick_claims_pass(module, tmp_path):
    result = module.run(True, tmp_path, key=jax.random.key(0))
    assert {c.id: c.verdict for c in result.claims} == dict.fromkeys(
        ["ghost_found", "fixed_slow_and_ghosts"], "pass"
    )
    assert all(p.exists() for p in result.files)


def test_first_with_ghost_tries_networks_until_one_shows_the_claim(monkeypatch):
    """Existence claim: the first network is the single try's (same key); a failing one is
    followed by fold_in(key, 1), ...; the count is reported; none passing fails."""
    from ghostmech.paper.claims import Claim

    seen = []
    verdicts = iter(["fail", "pass"])

    def train(config, size, *, key):
        seen.append(np.asarray(jax.random.key_data(key)).tolist())
        return None, SimpleNamespace(metrics={}, checkpoints={})

    monkeypatch.setattr(fig5a, "train_snapshots", train)
    monkeypatch.setattr(fig5a, "analyse", lambda *a, **k: {})
    monkeypatch.setattr(
        fig5a, "claims_for", lambda *a: [Claim("ghost_found", "s", {"g": 1}, next(verdicts))]
    )
    key = jax.random.key(4)
    *_, claims = fig5a.first_with_ghost("fig5_dcd", SimpleNamespace(snapshots=()), key=key, tries=3)
    assert claims[0].verdict == "pass" and claims[0].measured["networks_tried"] == 2
    first = np.asarray(jax.random.key_data(jax.random.split(key)[0])).tolist()
    second = jax.random.split(jax.random.fold_in(key, 1))[0]
    assert seen == [first, np.asarray(jax.random.key_data(second)).tolist()]
    monkeypatch.setattr(
        fig5a, "claims_for", lambda *a: [Claim("ghost_found", "s", {"g": 0}, "fail")]
    )
    *_, claims = fig5a.first_with_ghost("fig5_dcd", SimpleNamespace(snapshots=()), key=key, tries=3)
    assert claims[0].verdict == "fail" and claims[0].measured["networks_tried"] == 3
