"""Figs. 3A-B quick runs, and the fixed-point counter against flow_1d on built flows."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ghostmech.dynamics import flow_1d
from ghostmech.paper import fig3a, fig3b

# A finding, not a pass: "most_seeds_trapped" (≥ half of the seeds trapped by epoch 6000
# at lr 0.02) sits on its threshold. Quick (6 seeds, PRNGKey(3)): 3/6 trapped when the
# kernel compiled 6 networks wide, 2/6 at the engine's fixed width 32 (seed 1 learns at
# widths 1, 2, 32 and is trapped at widths 3, 6: a last-bit coin flip near η_c); 5/20 at
# the full 20 seeds of this key. It is reported by the figure, not asserted here.
BORDERLINE = {"most_seeds_trapped"}


@pytest.mark.parametrize("module", [fig3a, fig3b], ids=["fig3a", "fig3b"])
def test_quick_figure_passes(module, tmp_path):
    res = module.run(True, tmp_path, key=jax.random.PRNGKey(3))
    verdicts = {c.id: c.verdict for c in res.claims if c.id not in BORDERLINE}
    assert verdicts == dict.fromkeys(verdicts, "pass")
    assert all(c.verdict in ("pass", "fail") for c in res.claims)
    assert res.files and all(f.exists() and f.stat().st_size > 0 for f in res.files)


def _one_neuron_flow(w: float, b: float):
    """N = 1: F(κ) = −κ + tanh(w κ + b) (m = w, n = 1): 1 or 3 fixed points by w and b."""
    return np.array([w]), np.array([1.0]), np.array([b])


@pytest.mark.parametrize(("w", "b", "expected"), [(0.5, 0.0, 1), (2.0, 0.0, 3), (2.0, 1.5, 1)])
def test_count_fixed_points_matches_flow_1d(w, b, expected):
    m, n, bb = _one_neuron_flow(w, b)
    with jax.enable_x64(True):
        fl = flow_1d(lambda k: -k + jnp.tanh(w * k + b), -3.0, 3.0)
    n_flow = sum(k != "ghost" for k in fl.kinds())
    assert fig3a.count_fixed_points(m, n, bb) == n_flow == expected
