"""Plateau / jump / no-learning detection on curves whose events are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from ghostmech.training import detect, jumps, no_learning, plateaus


def _drop_curve(epochs=2000, at=1200, width=4.0):
    """Loss ≈ 1 (slowly creeping down), then a sigmoid drop to 0.05 centred at ``at``."""
    e = np.arange(epochs)
    return 0.05 + 0.95 / (1 + np.exp((e - at) / width)) - 1e-6 * e


def test_plateau_then_abrupt_drop():
    loss = _drop_curve()
    grad = np.full_like(loss, 1e-3)
    found = detect(loss, grad)
    assert found.plateaus[0][0] == 0
    assert 1100 <= found.plateaus[0][1] <= 1200  # ends where the drop starts (within the window)
    assert found.jumps.tolist() == [1200]  # steepest one-epoch fall is at the centre
    assert found.trapped_from == -1 and found.status == "learned"


def test_trapped_in_the_no_learning_zone():
    e = np.arange(1000)
    loss = np.where(e < 300, 1.0 - 1e-4 * e, 1.0)
    grad = np.where(e < 300, 1e-3, 1e-20)
    flags, trapped = no_learning(loss, grad)
    assert trapped == 300 and flags[300:].all() and not flags[:300].any()
    assert detect(loss, grad).status == "trapped"


def test_small_gradient_at_low_loss_is_not_trapped():
    loss = np.linspace(1.0, 0.01, 500)
    grad = np.full(500, 1e-20)
    assert no_learning(loss, grad)[1] == -1
    assert plateaus(loss) == []  # a steady decline is not a plateau
    assert jumps(loss).size == 0  # nor an abrupt drop


def test_diverged_curves_are_reported():
    loss = _drop_curve()
    loss[1500:] = np.nan
    found = detect(loss, np.ones_like(loss))
    assert found.status == "diverged"
    assert all(b < 1500 for _, b in found.plateaus)


@pytest.mark.parametrize(
    "kwargs, name", [({"window": 0}, "window"), ({"drop_tol": -1.0}, "drop_tol")]
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        detect(np.ones(10), np.ones(10), **kwargs)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="`grad_norm`"):
        no_learning(np.ones(10), np.ones(9))


# --- outcomes and the critical lr: defined once (training.detect) ---------------------------

from ghostmech.training.detect import (  # noqa: E402
    OUTCOMES,
    Outcome,
    classify,
    critical_lr,
    escaped,
    trapped_from,
)


def test_classify_planted_final_losses():
    loss = np.array([0.02, 0.5, 0.95, 0.95, np.nan, 0.1])
    grad = np.array([1e-3, 1e-3, 1e-9, 1e-2, np.nan, 1e-3])
    plain = classify(loss)
    assert [OUTCOMES[c] for c in plain] == [
        "learned", "plateau", "trapped", "trapped", "diverged", "learned"
    ]  # fmt: skip
    with_grad = classify(loss, grad, grad_below=1e-6)
    assert with_grad[3] == Outcome.PLATEAU  # high loss but still moving: not the no-learning zone
    assert with_grad[2] == Outcome.TRAPPED
    assert classify([0.45], l_zero=0.5)[0] == Outcome.TRAPPED  # thresholds scale with L₀
    with pytest.raises(ValueError, match="learned_below"):
        classify(loss, learned_below=0.9, trapped_above=0.5)
    with pytest.raises(ValueError, match="final_grad"):
        classify(loss, grad_below=1e-6)


def test_escaped_needs_the_plateau_then_learning():
    curves = np.array([[1.0, 0.99, 0.5, 0.05], [0.6, 0.4, 0.2, 0.05], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(escaped(curves), [True, False, False])


def _old_onset(lrs, frac):  # the former fig2.threshold
    above = np.nonzero(frac > 0)[0]
    if above.size == 0 or above[0] == 0:
        return (np.nan,) * 3
    lo, hi = lrs[above[0] - 1], lrs[above[0]]
    return lo, hi, np.sqrt(lo * hi)


def _old_sustained(lrs, frac, level):  # the former fig7a.critical_lr
    ok = frac >= level
    return next((lrs[i] for i in range(len(lrs)) if ok[i:].all()), np.nan)


def _old_falls(lrs, frac, level):  # the former critical_delay.critical_from_fraction
    p = int(np.argmax(frac))
    after = np.flatnonzero(frac[p:] < level)
    if frac[p] < level or after.size == 0:
        return (np.nan,) * 3
    j = p + int(after[0])
    return lrs[j - 1], lrs[j], np.sqrt(lrs[j - 1] * lrs[j])


def test_critical_lr_rules_reproduce_the_three_former_definitions():
    rng = np.random.default_rng(0)
    lrs = np.logspace(-3, 0, 9)
    for _ in range(300):
        frac = rng.integers(0, 5, lrs.size) / 4  # 4 seeds per lr
        np.testing.assert_array_equal(
            tuple(critical_lr(lrs, frac, level=np.finfo(float).tiny, rule="onset"))
            if frac[0] == 0 else (np.nan,) * 3,
            _old_onset(lrs, frac),
        )  # fmt: skip
        np.testing.assert_array_equal(
            critical_lr(lrs, frac, level=0.5, rule="sustained").hi, _old_sustained(lrs, frac, 0.5)
        )
        np.testing.assert_array_equal(
            tuple(critical_lr(lrs, frac, level=0.5, rule="falls_after_peak")),
            _old_falls(lrs, frac, 0.5),
        )


def test_critical_lr_on_a_planted_step_and_its_negative_control():
    lrs = np.array([0.01, 0.02, 0.04, 0.08])
    c = critical_lr(lrs, [0, 0, 1, 1], level=0.5, rule="sustained")
    assert (c.lo, c.hi) == (0.02, 0.04) and c.found
    assert not critical_lr(lrs, [0, 0, 0, 0], level=0.5, rule="onset").found
    with pytest.raises(ValueError, match="rule"):
        critical_lr(lrs, [0, 0, 1, 1], level=0.5, rule="majority")


def _logistic(lrs, at, steep=8.0):
    """A fraction rising from 0 to 1 through ½ exactly at ``at`` (smooth in log lr)."""
    return 1 / (1 + np.exp(-steep * (np.log10(lrs) - np.log10(at))))


@pytest.mark.parametrize("at", [0.0123, 0.05, 0.31])
def test_critical_lr_brackets_a_known_crossing(at):
    lrs = np.logspace(-2.5, 0, 16)
    trapped = _logistic(lrs, at)  # ½ crossed between the two grid lrs around `at`
    for rule in ("onset", "sustained"):
        c = critical_lr(lrs, trapped, level=0.5, rule=rule)
        assert c.lo < at <= c.hi and np.searchsorted(lrs, at) == np.searchsorted(lrs, c.hi)
        assert c.value == pytest.approx(np.sqrt(c.lo * c.hi))
    learned = np.where(lrs < 3e-3, 0.0, 1 - trapped)  # too slow at the smallest lr, then falls
    c = critical_lr(lrs, learned, level=0.5, rule="falls_after_peak")
    assert c.lo < at <= c.hi


def test_critical_lr_negative_controls_must_not_find_a_crossing():
    lrs = np.logspace(-2.5, 0, 16)
    never = _logistic(lrs, 30.0)  # crosses ½ far beyond the grid
    for rule in ("onset", "sustained"):
        assert not critical_lr(lrs, never, level=0.5, rule=rule).found
    assert not critical_lr(lrs, 1 - never, level=0.5, rule="falls_after_peak").found
    blip = np.where(np.isclose(lrs, lrs[3]), 1.0, never)  # one lr trapped, the rest not
    assert critical_lr(lrs, blip, level=0.5, rule="onset").hi == lrs[3]
    assert not critical_lr(lrs, blip, level=0.5, rule="sustained").found  # not sustained


def test_trapped_from_planted_tails_and_negative_control():
    flags = np.zeros((3, 40), bool)
    flags[0, 25:] = True  # trapped from 25
    flags[1, 5:15] = True  # trapped for a while, escaped: not trapped at the end
    flags[2, :] = True
    np.testing.assert_array_equal(trapped_from(flags), [25, -1, 0])
    flags[0, 30] = False  # a one-epoch gap moves the start past it
    assert trapped_from(flags[0]) == 31
    with pytest.raises(ValueError, match="flags"):
        trapped_from(np.zeros(0, bool))


def test_strict_and_non_strict_thresholds_agree_on_float32_losses():
    """The figures' rules 'L > 0.9' and 'L < 0.1' read as `classify`'s ≥ / ≤: no float32
    number equals the float64 0.9 or 0.1, so they agree on every float32 loss."""
    for t in (0.9, 0.1):
        x = np.float32(t)
        near = np.array([np.nextafter(x, np.float32(-1)), x, np.nextafter(x, np.float32(2))])
        wide = near.astype(np.float64)  # the float32 numbers around t, as classify reads them
        np.testing.assert_array_equal(wide > t, wide >= t)
        np.testing.assert_array_equal(wide < t, wide <= t)
    # negative control: a float64 loss exactly at the threshold does tell them apart
    assert (np.float64(0.9) >= 0.9) and not (np.float64(0.9) > 0.9)
