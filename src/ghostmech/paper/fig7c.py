"""Figure 7C–D: full-rank DCD learning-rate sweep (claim 7), as Fig. 7A–B with a tanh readout.

Setting (docs/model.md §4, 7C–D): N = 100, W Xavier-uniform, b ~ U(−1, 1), r₀ = 0,
no noise, one trial per type, DCD 30/80/50 ms, SGD, lr = logspace(−3, 1, 20),
20 seeds, 20,000 epochs. Quick: N = 100, lr = logspace(−2, 1, 7), 4 seeds, 500
epochs (DCD learns faster than DMTS). Both sizes are read from the shipped config
``fig7_dcd`` (`sizes`; quick / full variant). Definitions, tests and quick-size power (learned, trapped, saturation)
are those of :mod:`ghostmech.paper.fig7a`. The paper's claim here is the
critical lr only; "trapped DCD networks keep most rates unsaturated" is our own
generalisation of Fig. 7B (claim ``sweep_trapped_not_saturated_beyond_paper``):
it holds at quick size (10–17 % of rates at |r| > 0.99 at η_c) and, by the
"most" rule, narrowly near full size (39 % after 20,000 epochs; the readout is
then NOT ten times more saturated than the rates): see docs/reproduction.md.
"""

from __future__ import annotations

from pathlib import Path

import jax

from ghostmech.paper import fig7a
from ghostmech.paper.claims import FigureResult
from ghostmech.paper.fig7a import run_sweep_figure

__all__ = ["run", "CONFIG", "sizes"]

CONFIG = "fig7_dcd"  # the shipped config (quick and full variants) this figure trains


def sizes(quick: bool) -> fig7a.Sizes:
    """The sizes of the shipped config ``fig7_dcd`` (quick or full variant)."""
    return fig7a.sizes(quick, CONFIG)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Full-rank DCD lr sweep (claim 7)."""
    return run_sweep_figure("fig7c", "fig7_dcd", sizes(quick), quick, out, key)
