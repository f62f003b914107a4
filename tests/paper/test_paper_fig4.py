"""Fig. 4: the jump/object coincidence rule on hand-made flows, the limit-cycle test on
closed-form flows, and the quick runs."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.paper import fig4a, fig4e


def _flow(kinds):
    pts = SimpleNamespace(
        count=lambda *k: sum(x in k or ("fixed" in k and x != "ghost") for x in kinds)
    )
    return SimpleNamespace(points=pts), None


def _loss(jump_at, n=1000):
    return np.where(np.arange(n) < jump_at, 1.0, 0.1)


def test_a_spike_is_not_a_jump():
    eps = list(range(0, 1001, 100))
    change = {e: _flow(["stable_node"] if e < 500 else ["ghost", "stable_node"]) for e in eps}
    spike = np.where((np.arange(1000) >= 440) & (np.arange(1000) < 460), 2.0, 1.0)
    claims, found = fig4a.jump_claims(spike, change, window=10)
    assert found.size == 0 and claims[0].verdict == "fail"


def test_objects_may_change_within_the_jump_window():
    """The jump epoch is known to ± window: a change at the first checkpoint ≥ j + window counts;
    one a checkpoint later does not. Two steps 5 epochs apart are one event."""
    eps = list(range(0, 4001, 20))  # 200 intervals: one change in a 7-interval span has p = 7/194
    t = np.arange(4000)
    loss = np.where(t < 450, 1.0, np.where(t < 455, 0.6, 0.1))
    near = {e: _flow(["stable_node"] if e < 520 else ["stable_node", "ghost"]) for e in eps}
    claims, _ = fig4a.jump_claims(loss, near, window=60)
    m = claims[0].measured
    assert len(m["events"]) == 1 and claims[0].verdict == "pass"
    assert m["change_rate_same_span"] == pytest.approx(7 / 194)  # spans of 7 intervals with 520
    assert m["p_value"] == pytest.approx(7 / 194)
    far = {e: _flow(["stable_node"] if e < 540 else ["stable_node", "ghost"]) for e in eps}
    assert fig4a.jump_claims(loss, far, window=60)[0][0].verdict == "fail"


def test_the_fall_after_a_wide_spike_is_not_a_jump():
    """A spike wider than the window, then back to the old level: no new low, no jump; a real
    drop later still counts."""
    loss = _curve(n=1000, drop_at=800, start=0.5)
    loss[300:360] = 1.0  # 60 epochs up, window 10
    assert fig4a.level_jumps(loss, window=10).tolist() == [799]


def test_inventory_counts_kinds():
    fl, _ = _flow(["stable_node", "saddle", "stable_focus", "ghost"])
    assert fig4a.inventory(fl) == (2, 1, 1)


def test_inventory_with_min_dwell_counts_only_ghosts_that_last():
    """A ghost counts when its predicted dwell π/√ε reaches ``min_dwell`` (here 10 steps)."""
    kinds = ["stable_node", "saddle", "ghost", "ghost"]
    eps = np.array([np.nan, np.nan, 1e-2, 0.25])  # dwell π/√ε = 31.4 and 6.3
    fixed = {"stable_node", "stable_focus", "saddle"}

    def where(*want):
        w = set(want) | (fixed if "fixed" in want else set())
        return np.flatnonzero([k in w for k in kinds])

    pts = SimpleNamespace(dwell=np.pi / np.sqrt(eps), where=where, count=lambda *w: len(where(*w)))
    flow = SimpleNamespace(points=pts)
    assert fig4a.inventory(flow) == (1, 1, 2)
    assert fig4a.inventory(flow, min_dwell=10.0) == (1, 1, 1)


def test_jump_with_a_new_object_passes_and_without_fails():
    eps = list(range(0, 1001, 10))  # 100 intervals: a 3-interval span holds the change 3/98
    change = {
        e: _flow(["stable_node"] if e < 460 else ["stable_node", "saddle", "stable_node"])
        for e in eps
    }
    claims, found = fig4a.jump_claims(_loss(450), change, window=10)
    assert found.tolist() == [449] and claims[0].verdict == "pass"
    assert claims[0].measured["p_value"] == pytest.approx(3 / 98)
    same = {e: _flow(["stable_node"]) for e in eps}
    assert fig4a.jump_claims(_loss(450), same, window=10)[0][0].verdict == "fail"
    # objects change far from the jump: not coincident
    late = {e: _flow(["stable_node"] if e < 900 else ["ghost"]) for e in eps}
    assert fig4a.jump_claims(_loss(450), late, window=10)[0][0].verdict == "fail"
    # objects change at every checkpoint: a change at the jump is no coincidence
    flicker = {e: _flow(["stable_node"] * (1 + (e // 10) % 2)) for e in eps}
    assert fig4a.jump_claims(_loss(450), flicker, window=10)[0][0].verdict == "fail"


def test_events_of_several_networks_are_pooled():
    """One event per network, each bracket holding the network's one change by chance with
    p = 0.1 (10 checkpoint intervals): one network alone is not evidence (p = 0.1), three
    with a change are (p = 0.001); 1 of 3 is not (p = 1 − 0.9³ = 0.271)."""
    eps = list(range(0, 1001, 100))
    at_jump = {e: _flow(["stable_node"] if e < 500 else ["stable_node", "ghost"]) for e in eps}
    elsewhere = {e: _flow(["stable_node"] if e < 900 else ["stable_node", "ghost"]) for e in eps}
    rec = fig4a.jump_record(_loss(450), at_jump, window=10)
    miss = fig4a.jump_record(_loss(450), elsewhere, window=10)
    assert rec["chance"] == [pytest.approx(0.1)] and rec["with_change"] == [True]
    assert fig4a.pooled_jump_claim([rec]).verdict == "fail"
    three = fig4a.pooled_jump_claim([rec, rec, rec])
    assert three.verdict == "pass" and three.measured["p_value"] == pytest.approx(1e-3)
    assert three.measured["events_with_new_objects"] == "3/3"
    one = fig4a.pooled_jump_claim([rec, miss, miss])
    assert one.verdict == "fail" and one.measured["p_value"] == pytest.approx(0.271)
    assert fig4a.pooled_jump_claim([]).verdict == "fail"  # no event: no evidence


def _curve(n=1000, drop_at=None, back_at=None, start=0.5):
    """Loss held at ``start`` (a plateau), dropping to 0.1 at ``drop_at``, back up at ``back_at``."""
    t = np.arange(n)
    loss = np.full(n, start)
    if drop_at is not None:
        loss[t >= drop_at] = 0.1
    if back_at is not None:
        loss[t >= back_at] = start
    return loss


def test_escape_stats_counts_escapes_and_keeps():
    losses = np.stack(
        [
            _curve(),  # never leaves the plateau
            _curve(drop_at=400, back_at=700),  # escapes, falls back: not kept
            _curve(drop_at=500),  # escapes and stays
            _curve(drop_at=600),
        ]
    )
    stats = fig4a.escape_stats(losses, window=10)
    assert stats == {"escaped_fraction": 0.75, "kept_fraction": 0.5, "shown": 2}
    # nothing kept: the first escaped seed is shown; nothing escaped: the first seed
    assert fig4a.escape_stats(losses[:2], window=10)["shown"] == 1
    assert fig4a.escape_stats(losses[:1], window=10)["shown"] == 0


def test_a_descent_from_the_start_is_not_an_escape():
    smooth = np.linspace(1.0, 0.1, 1000)
    early = _curve(drop_at=20)  # before 3 windows: the first descent, not a jump
    assert fig4a.escape_stats(np.stack([smooth, early]), window=10)["escaped_fraction"] == 0.0


def test_network_of_picks_one_seed_of_a_sweep():
    """The i-th network of a sweep's stacked result is the network built from seed i."""
    from ghostmech.networks import make_preset
    from ghostmech.tasks import make_task
    from ghostmech.training import sweep

    task = make_task("dcd", input=1, delay=2, response=2)
    build = lambda k: make_preset("fig4_dcd_strong_input", key=k, n=8)  # noqa: E731
    res = sweep(build, task, lrs=[1e-2], seeds=[3, 5], epochs=2, checkpoints={"every": 1})
    net = fig4a.network_of(res.checkpoints[0], 1)
    ref = build(jax.random.split(jax.random.key(5))[0])
    np.testing.assert_array_equal(net.m, ref.m)
    np.testing.assert_array_equal(net.w_in, ref.w_in)
    assert net.rank == 2 and net.r0.shape == (8,)


def test_limit_cycle_of_the_hopf_normal_form():
    """ż = (1 − |z|²) z + i z: the unit circle is a limit cycle (period 2π)."""

    def hopf(x):
        r2 = x[0] ** 2 + x[1] ** 2
        return jnp.array([(1 - r2) * x[0] - x[1], (1 - r2) * x[1] + x[0]])

    out = fig4e.limit_cycle(hopf, np.array([[0.1, 0.0], [2.0, 0.0]]), steps=4000, dt=0.01)
    assert out["periodic_runs"] == 2
    assert out["period_steps"] * 0.01 == pytest.approx(2 * np.pi, rel=0.02)


def test_no_limit_cycle_for_a_stable_spiral():
    spiral = lambda x: jnp.array([-0.5 * x[0] - x[1], x[0] - 0.5 * x[1]])  # noqa: E731
    assert fig4e.limit_cycle(spiral, np.array([[1.0, 0.0]]))["periodic_runs"] == 0


def test_rank2_pipeline_writes_panels_and_video(tmp_path):
    """A tiny rank-two run through training, 2-D portraits, the claim and the GIF."""
    size = fig4a.Sizes(
        "fig4_dcd",
        "sgd",
        1e-2,
        40,
        10,  # a checkpoint every 10 epochs
        {"name": "dcd", "input": 2, "delay": 4, "response": 4},  # steps (10/20/20 ms)
        n=16,
        chunk=40,
        n_frames=2,
        seeds=2,
    )
    result = fig4a.run_rank2("fig4a", size, True, tmp_path, jax.random.key(0))
    assert [p.suffix for p in result.files] == [".png", ".pdf", ".gif"]
    assert all(p.exists() for p in result.files)
    m = result.claims[0].measured
    assert m["first_inventory"].startswith("(") and m["seeds"] == 2


# ~30-60 s each on the 2-core machine; in CI, so that claim 4's verdicts are asserted
def test_quick_run_reproduces_claim_4_for_dcd(tmp_path):
    result = fig4a.run(True, tmp_path, key=jax.random.key(0))
    assert any(p.suffix == ".gif" for p in result.files)
    assert all(p.exists() for p in result.files)
    assert result.claims[0].id == "jumps_with_new_objects"
    assert [c.verdict for c in result.claims] == ["pass"] * len(result.claims)
    m = result.claims[0].measured
    assert m["escaped_fraction"] > 0 and m["networks_analysed"] >= 1
    assert m["p_value"] < 0.05


def test_quick_dmts_run_reports_but_does_not_decide(tmp_path):
    """Fig. 4E–H's claims are decided at full size only: quick verdicts are not-run, with
    their numbers."""
    result = fig4e.run(True, tmp_path, key=jax.random.key(0))
    assert [c.id for c in result.claims] == ["jumps_with_new_objects", "cycle_with_ghosts"]
    assert [c.verdict for c in result.claims] == ["not-run", "not-run"]
    assert "p_value" in result.claims[0].measured
    assert "escaped_with_cycle_and_ghosts" in result.claims[1].measured
