"""Fig. 8B quick run, and the episode bookkeeping of the automatic rescue."""

import jax
import numpy as np

from ghostmech.paper import fig8b


def test_quick_figure_passes(tmp_path):
    res = fig8b.run(True, tmp_path, key=jax.random.PRNGKey(3))
    assert [c.verdict for c in res.claims] == ["pass", "pass"]
    measured = res.claims[0].measured
    assert measured["rescued_at_beta_10_fraction"] == 0.0  # β = 10 is no intervention at all
    assert measured["p_best_vs_beta_10"] <= 0.05 / 9
    assert all(f.exists() for f in res.files)


def test_episode_success_counts_immediate_retriggers():
    k = fig8b.RESCUE_EPOCHS
    starts = [[5, 5 + k + 1, 500], [10], []]  # first episode failed, the next two held
    got = fig8b.episode_success(starts, epochs=2000)
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0, 1.0])
    assert fig8b.episode_success([[1990]], epochs=2000).size == 0  # unfinished: left out


def _auto():
    return {
        "auto_episodes": 5,
        "auto_episode_success": 1.0,
        "manual_best_success": 1.0,
        "auto_epochs_lost": 1.0,
        "manual_epochs_lost": 2.0,
    }


def test_paper_claim_is_two_bonferroni_fisher_tests():
    betas = np.logspace(-3, 1, 9)
    peak = np.array([0, 0.2, 0.6, 1, 1, 1, 0.6, 0.2, 0])
    assert fig8b._claims(betas, peak, 20, _auto())[0].verdict == "pass"
    # same shape, 4 trapped: 4/4 vs 0/4 is p = 1/70 > 0.05/9: not shown
    assert fig8b._claims(betas, peak, 4, _auto())[0].verdict == "fail"
    # monotone (the smallest β rescues as well): fails
    flat = np.array([1, 1, 1, 1, 1, 1, 0.6, 0.2, 0])
    assert fig8b._claims(betas, flat, 20, _auto())[0].verdict == "fail"
