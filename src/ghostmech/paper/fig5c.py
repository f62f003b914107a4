"""Figure 5C–D: a full-rank RNN learning delayed match-to-sample has ghosts, fixed and slow points.

Setting (docs/model.md §4, 5C–D): as Fig. 5A–B (N = 100, W Xavier-uniform, b ~ U(−1, 1),
r₀ = tanh(N(0, 0.1²)), noise s.d. 1e-2, one trial per type, SGD lr 1e-2) with
DMTS 10/150/50 ms, a sigmoid readout, 100,001 epochs and snapshots 100, 1000,
50,000, 100,000. Quick: N = 32, lr 0.3 (30x larger), 600 epochs, snapshots
10, 100, 300, 600. N, lr and epochs are read from the shipped config
``fig5_dmts`` (`sizes`; quick / full variant). The analysis and the verdicts are those of
:mod:`ghostmech.paper.fig5a` (speed minima from pooled starts, bisection of
every change of the fixed-point count, closed-form spectral check of ghosts, the
first of up to ``fig5a.TRIES`` networks that shows claim 5).
"""

from __future__ import annotations

from pathlib import Path

import jax

from ghostmech.paper import fig5a
from ghostmech.paper.claims import FigureResult
from ghostmech.paper.fig5a import Sizes, draw, first_with_ghost

__all__ = ["run", "CONFIG", "SNAPSHOTS", "sizes"]

CONFIG = "fig5_dmts"  # the shipped config (quick and full variants) this figure trains
SNAPSHOTS = {True: (10, 100, 300, 600), False: (100, 1000, 50_000, 100_000)}


def sizes(quick: bool) -> Sizes:
    """N, lr and epochs of the shipped ``fig5_dmts`` config, with this figure's snapshots."""
    return fig5a.sizes(quick, CONFIG, SNAPSHOTS)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Train the full-rank DMTS network, find its points, measure claim 5, draw panels A–H."""
    size = sizes(quick)
    task, res, found, claims = first_with_ghost(CONFIG, size, key=key)
    files = draw("fig5c", res, task, found, size.snapshots, out)
    return FigureResult("fig5c", claims, files, quick=quick)
