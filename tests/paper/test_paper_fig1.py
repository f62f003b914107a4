"""Fig. 1 measurements against the closed form of ẋ = x² + ε (x(t) = √ε tan(√ε(t − t₀)))."""

import math

import pytest

from ghostmech.paper import fig1


def _closed(eps, a, b):
    """Time for ẋ = x² + ε to go from a to b: (arctan(b/√ε) − arctan(a/√ε))/√ε."""
    r = math.sqrt(eps)
    return (math.atan(b / r) - math.atan(a / r)) / r


@pytest.mark.parametrize("eps", [0.5, 0.01])
def test_passage_time_matches_closed_form(eps):
    t = fig1.passage_time(eps, L=50.0)
    assert t["total"] == pytest.approx(_closed(eps, -50.0, 50.0), rel=1e-7)
    assert t["bottleneck"] == pytest.approx(_closed(eps, -1.0, 1.0), rel=1e-7)


def test_claims_pass_and_detect_a_wrong_epsilon(monkeypatch):
    claims, _ = fig1._claims(L=100.0, eps_list=[0.5, 0.05])
    assert {c.id: c.verdict for c in claims} == dict.fromkeys(
        ["fixed_points", "ghost_no_fixed_point", "passage_time", "ghost_slows_passage"], "pass"
    )
    # a flow twice as fast (ẋ = 2(x² + ε)) passes in half the time: the verdict must fail
    monkeypatch.setattr(fig1, "_flow", lambda s, e: lambda t, x: 2 * (x**2 + s * e))
    claims, _ = fig1._claims(L=100.0, eps_list=[0.5])
    assert {c.id: c.verdict for c in claims}["passage_time"] == "fail"
