"""Maps are classified by their multipliers μ = 1 + λ (docs/theory.md §4, "Maps")."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ghostmech.dynamics import MapField, as_map, find_points, rnn_field


def _at_origin(f, n):
    pts = find_points(f, 0.05 * np.ones((1, n)))
    (row,) = np.flatnonzero(np.linalg.norm(pts.xstar, axis=1) < 1e-8)
    return pts, row


def test_dyn_map_oscillating_away_is_unstable():
    """h ↦ tanh(−1.5 h): λ = −2.5 (a stable node of ẋ = G − x) but μ = −1.5."""
    pts, i = _at_origin(MapField(lambda h: jnp.tanh(-1.5 * h)), 1)
    assert pts.kind[i] == "stable_node" and pts.system == "flow"
    m = as_map(pts)
    assert m.system == "map" and m.kind[i] == "unstable" and m.n_unstable[i] == 1
    np.testing.assert_allclose(m.multipliers[i], [-1.5], atol=1e-10)


def test_dyn_map_flip():
    pts, i = _at_origin(MapField(lambda h: jnp.tanh(-h)), 1)
    assert as_map(pts).kind[i] == "flip"


def test_dyn_map_saddle_counts_by_modulus():
    """An α = 1 rate network r ↦ tanh(W r): μ = (−3, 0.5, 0.2) one unstable direction;
    the flow's eigenvalues (−4, −0.5, −0.8) say stable."""
    f = rnn_field(np.diag([-3.0, 0.5, 0.2]), np.zeros(3), alpha=1.0)
    pts, i = _at_origin(f, 3)
    assert pts.kind[i] == "stable_node"
    m = as_map(pts)
    assert (m.kind[i], int(m.n_unstable[i])) == ("saddle", 1)
    assert m.to_dict()["system"] == "map"


def test_dyn_map_stable_agrees():
    f = rnn_field(np.diag([0.5, -0.5]), np.zeros(2), alpha=1.0)
    pts, i = _at_origin(f, 2)
    assert as_map(pts).kind[i] == "stable_node"


def test_dyn_map_idempotent():
    pts, _ = _at_origin(MapField(lambda h: jnp.tanh(0.5 * h)), 1)
    once = as_map(pts)
    assert as_map(once) is once
