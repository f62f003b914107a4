"""Run analysis glue: parsing grid points, learning events, the timeline document and
how it lines loss jumps up with dynamical events. The points come from the canonical
flow ẋ = ε + x² tracked through ε = −0.25 → −0.16 → +0.01 (closed forms: fixed points
±√−ε; a ghost with scale ε and dwell time π/√ε once ε > 0)."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.dynamics import bottleneck, track
from ghostmech.runs.analysis import (
    PointAnalysis,
    default_detect_kw,
    learning_events,
    parse_point,
    write_timeline,
)
from ghostmech.training.detect import Detection, detect


def test_parse_point():
    assert parse_point("lr=0.003,seed=0") == {"lr": 0.003, "seed": 0}
    assert parse_point(" rank=full , lr=1e-2 ") == {"rank": "full", "lr": 0.01}
    assert parse_point(None) == {} and parse_point("") == {}


@pytest.mark.parametrize("bad", ["lr", "lr=", "=1", "lr=1,,seed=0"])
def test_parse_point_rejects(bad):
    with pytest.raises(ValueError, match="--point"):
        parse_point(bad)


def test_default_detect_windows_scale_with_the_run():
    assert default_detect_kw(300) == {"window": 3, "min_length": 30}
    assert default_detect_kw(500_000) == {"window": 50, "min_length": 200}
    assert default_detect_kw(10)["window"] == 1


def test_learning_events_from_a_known_curve():
    # plateau at 1 for 400 epochs, a drop within 5 epochs, then low; gradient ~0 never
    loss = np.concatenate([np.ones(400), np.linspace(1, 0.05, 5), np.full(195, 0.05)])
    d = detect(loss, np.full(loss.size, 1e-3), window=10, min_length=50)
    ev = learning_events(d)
    kinds = [(e["kind"], e["epoch"]) for e in ev]
    jumps = [e for k, e in kinds if k == "loss_jump"]
    assert len(jumps) == 1 and 400 <= jumps[0] <= 404
    onset = [e for k, e in kinds if k == "plateau_onset"]
    assert onset == [0]
    assert [e["epoch"] for e in ev] == sorted(e["epoch"] for e in ev)


def test_no_learning_zone_and_trap_are_reported():
    flags = np.zeros(100, bool)
    flags[60:] = True
    d = Detection([], np.array([], int), flags, 60, "trapped")
    ev = learning_events(d)
    assert {"epoch": 60, "kind": "no_learning", "detail": {"until": 99}} in ev
    assert any(e["kind"] == "trapped_from" and e["epoch"] == 60 for e in ev)


@pytest.fixture(scope="module")
def tracking():
    """Points of ẋ = ε + x² at three checkpoints (computed once for the module)."""
    eps = {0: -0.25, 10: -0.16, 20: 0.01}  # fixed points ±0.5, ±0.4 (matched), none
    fields = [(e, (lambda x, v=v: v + x**2)) for e, v in eps.items()]
    return track(fields, np.linspace(-1.0, 1.0, 9)[:, None])


def _run_through(eps, lo, hi):
    """Unit steps x ← x + ε + x² from ``lo`` until past ``hi``: [1, time, 1]."""
    xs = [lo]
    while xs[-1] < hi:
        xs.append(xs[-1] + eps + xs[-1] ** 2)
    return np.asarray(xs)[None, :, None]


def _analysis(tr, delay=20, span=None):
    loss = np.concatenate([np.ones(15), np.full(10, 0.1)])  # one drop at epoch 14
    learn = Detection([], np.array([14]), np.zeros(25, bool), -1, "learned")
    passages = []
    if span is not None:  # the last checkpoint's candidate judged on a run over ``span``
        f = lambda x: 0.01 + x**2  # noqa: E731
        x = tr.points[2].xstar[tr.points[2].where("ghost")[0]]
        passages = [[], [], [(x.tolist(), bottleneck(f, _run_through(0.01, *span), x))]]
    return PointAnalysis({"lr": 0.1, "seed": 0}, "full", delay, tr, [], [], loss,
                         np.ones(25), learn, tr.status, passages)  # fmt: skip


def test_timeline_counts_points_and_ghost_against_closed_forms(tracking):
    tl = _analysis(tracking, span=(-0.3, 0.3)).timeline()  # |u| = 3: a bottleneck
    rows = tl["checkpoints"]
    assert [r["n_fixed"] for r in rows] == [2, 2, 0]
    assert [r["n_ghost"] for r in rows] == [0, 0, 1]
    g = rows[2]["ghosts"][0]
    assert g["kind"] == "ghost"
    assert g["eps"] == pytest.approx(0.01, rel=1e-6)
    assert g["x"] == pytest.approx([0.0], abs=1e-6)
    assert g["passage_full"] == pytest.approx(np.pi / 0.1, rel=1e-6)
    assert g["passage_full_over_delay"] == pytest.approx(np.pi / 0.1 / 20, rel=1e-6)
    # measured on the run: 2 arctan(3)/0.1 = 25 steps from −0.3 to 0.3, half of π/√ε in B
    p = g["passage"]
    assert abs(p["measured_delay"] - 2 * np.arctan(3) / 0.1) <= 2
    assert abs(p["measured_in_bottleneck"] - np.pi / 0.1 / 2) <= 2
    assert rows[2]["loss"] == pytest.approx(0.1)
    forms = [e for e in tl["dynamics_events"] if e["kind"] == "bottleneck_forms"]
    assert [e["epoch"] for e in forms] == [20]


def test_timeline_shallow_minimum_is_not_a_ghost(tracking):
    """The same flow, run over |u| ≤ 0.5 only: the trajectory never leaves the slow
    region, so the delay is a ramp (contrast 1.25 < 2) and no ghost is reported."""
    tl = _analysis(tracking, span=(-0.05, 0.05)).timeline()
    last = tl["checkpoints"][2]
    assert last["n_ghost"] == 0 and last["n_candidates"] == 1
    c = last["candidates"][0]
    assert c["kind"] == "shallow" and c["passage"]["contrast"] < 2
    assert not [e for e in tl["dynamics_events"] if e["kind"].startswith("bottleneck")]


def test_timeline_without_trajectories_judges_nothing(tracking):
    last = _analysis(tracking).timeline()["checkpoints"][2]
    assert last["n_ghost"] == 0 and [c["kind"] for c in last["candidates"]] == ["unmeasured"]


def test_timeline_aligns_the_loss_jump_with_the_bifurcation(tracking):
    tl = _analysis(tracking).timeline()
    kinds = {e["kind"] for e in tl["dynamics_events"] if e["epoch"] == 20}
    assert {"saddle_node_disappear", "fixed_to_ghost"} <= kinds  # the pair left a ghost
    (al,) = tl["alignment"]
    assert al["jump_epoch"] == 14 and al["checkpoints"] == [10, 20]
    assert "saddle_node_disappear" in al["events_at_next_checkpoint"]
    assert al["nearest_distance"] == 6
    merged = [(e["epoch"], e["source"]) for e in tl["timeline"]]
    assert merged == sorted(merged) and (14, "learning") in merged


def test_write_timeline_is_strict_json(tracking, tmp_path):
    path = write_timeline(
        _analysis(tracking, delay=0, span=(-0.3, 0.3)), tmp_path / "a" / "timeline.json"
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    g = doc["checkpoints"][2]["ghosts"][0]
    assert g["passage_full_over_delay"] is None  # no delay: undefined
    assert jnp.isfinite(g["eps"]) and g["passage"]["measured_delay_tau"] > 0
