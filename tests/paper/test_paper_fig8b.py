"""Fig. 8B quick run, and the episode bookkeeping of the automatic rescue."""

import jax
import numpy as np

from ghostmech.paper import fig8b


def test_quick_figure_passes(tmp_path):
    res = fig8b.run(True, tmp_path, key=jax.random.PRNGKey(3))
    assert [c.verdict for c in res.claims] == ["pass", "pass"]
    measured = res.claims[0].measured
    assert measured["rescued_at_beta_10"] == 0.0  # β = 10 is no intervention at all
    assert all(f.exists() for f in res.files)


def test_episode_success_counts_immediate_retriggers():
    k = fig8b.RESCUE_EPOCHS
    starts = [[5, 5 + k + 1, 500], [10], []]  # first episode failed, the next two held
    got = fig8b.episode_success(starts, epochs=2000)
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0, 1.0])
    assert fig8b.episode_success([[1990]], epochs=2000).size == 0  # unfinished: left out
