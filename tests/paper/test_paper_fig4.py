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


def test_inventory_counts_kinds():
    fl, _ = _flow(["stable_node", "saddle", "stable_focus", "ghost"])
    assert fig4a.inventory(fl) == (2, 1, 1)


def test_jump_with_a_new_object_passes_and_without_fails():
    eps = list(range(0, 1001, 100))
    change = {
        e: _flow(["stable_node"] if e < 500 else ["stable_node", "saddle", "stable_node"])
        for e in eps
    }
    claims, found = fig4a.jump_claims(_loss(450), change, window=10)
    assert found.tolist() == [449] and claims[0].verdict == "pass"
    same = {e: _flow(["stable_node"]) for e in eps}
    assert fig4a.jump_claims(_loss(450), same, window=10)[0][0].verdict == "fail"
    # objects change far from the jump: not coincident
    late = {e: _flow(["stable_node"] if e < 900 else ["ghost"]) for e in eps}
    assert fig4a.jump_claims(_loss(450), late, window=10)[0][0].verdict == "fail"
    # objects change at every checkpoint: a change at the jump is no coincidence
    flicker = {e: _flow(["stable_node"] * (1 + (e // 100) % 2)) for e in eps}
    assert fig4a.jump_claims(_loss(450), flicker, window=10)[0][0].verdict == "fail"


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
        "sgd", 1e-2, 40, 4, {"input": 10, "delay": 20, "response": 20}, n=16, n_frames=2
    )
    result = fig4a.run_rank2("fig4a", "fig4_dcd", size, True, tmp_path, jax.random.key(0))
    assert [p.suffix for p in result.files] == [".png", ".pdf", ".gif"]
    assert all(p.exists() for p in result.files)
    assert result.claims[0].measured["first_inventory"].startswith("(")


@pytest.mark.slow  # ~40-75 s each on the loaded 2-core machine; both claims fail in quick mode
@pytest.mark.parametrize("module", [fig4a, fig4e], ids=["dcd", "dmts"])
def test_quick_run_writes_panels_and_video(module, tmp_path):
    result = module.run(True, tmp_path, key=jax.random.key(0))
    assert any(p.suffix == ".gif" for p in result.files)
    assert all(p.exists() for p in result.files)
    assert result.claims[0].id == "jumps_with_new_objects"
