"""Tracking through a fold: the saddle-node and ghost conversions are found at the right epoch."""

from __future__ import annotations

import json
from types import SimpleNamespace

import dyn_zoo as zoo
import jax
import numpy as np
import pytest

from ghostmech.dynamics import analyze_snapshots, track

PS = [0.05, 0.03, 0.01, -0.01, -0.03, -0.05, -0.03, -0.01, 0.01]  # fold at epochs 3 and 8


def test_dyn_track_fold_events():
    Q = zoo.orthogonal(5, seed=7)
    snaps = [(e, zoo.PlantedGhost(Q, p, 0.3)) for e, p in enumerate(PS)]
    tr = track(snaps, np.random.default_rng(8).normal(size=(10, 5)))
    assert tr.status == "ok"
    for p, pts in zip(PS, tr.points, strict=True):
        assert pts.count("ghost") == (p > 0) and pts.count("fixed") == 2 * (p < 0)
    kinds = sorted((e.epoch, e.kind) for e in tr.events)
    assert kinds == [
        (3, "ghost_to_fixed"),
        (3, "saddle_node_appear"),
        (8, "fixed_to_ghost"),
        (8, "saddle_node_disappear"),
    ]
    eps_before = [eps for _, eps in tr.ghost_epsilons()[:3]]
    np.testing.assert_allclose(eps_before, [[p] for p in PS[:3]], rtol=1e-6)  # ε falls
    conv = next(e for e in tr.events if e.kind == "ghost_to_fixed")
    np.testing.assert_allclose(conv.detail["eps"], PS[2], rtol=1e-6)  # ε of the lost ghost
    back = json.loads(json.dumps([e.to_dict() for e in tr.events]))
    assert [d["kind"] for d in back] == [e.kind for e in tr.events]


def test_dyn_analyze_snapshots_rank1_networks():
    """Networks (RateRNN fields only) swept through the fold of the two-population model."""
    n = 12
    nets = []
    for eps in (1e-3, -2e-2):
        m, nT, b, _, _ = zoo.two_population(n, eps)
        nets.append(
            SimpleNamespace(
                m=m[:, None], nT=nT[:, None], w=None, w_in=np.zeros((n, 1)), b=b, alpha=0.5
            )
        )
    an = analyze_snapshots(
        list(enumerate(nets)), key=jax.random.key(0), n_trials=2, n_steps=30, every=10
    )
    assert an.status == "ok"
    (_, p0), (_, p1) = an.points_per_epoch
    assert p0.count("ghost") == 1 and p1.count("saddle") == 1
    assert {"saddle_node_appear", "ghost_to_fixed"} <= {e.kind for e in an.events}


def test_dyn_track_bad_input():
    with pytest.raises(ValueError, match="`snapshots`"):
        track([], np.zeros((1, 1)))
    with pytest.raises(ValueError, match="`match_tol`"):
        track([(0, zoo.Canonical(1.0))], np.zeros((1, 1)), match_tol=0.0)
