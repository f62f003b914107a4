"""Figure 5C–D: a full-rank RNN learning delayed match-to-sample has ghosts, fixed and slow points.

Setting (docs/model.md §4, 5C–D): as Fig. 5A–B (N = 100, W Xavier-uniform, b ~ U(−1, 1),
r₀ = tanh(N(0, 0.1²)), noise s.d. 1e-2, one trial per type, SGD lr 1e-2) with
DMTS 10/150/50 ms, a sigmoid readout, 100,001 epochs and snapshots 100, 1000,
50,000, 100,000. Quick: N = 32, lr 0.3 (30x larger), 600 epochs, snapshots
10, 100, 300, 600. The analysis and the verdicts are those of
:mod:`ghostmech.paper.fig5a` (speed minima from pooled starts, bisection of
every change of the fixed-point count, closed-form spectral check of ghosts).
"""

from __future__ import annotations

from pathlib import Path

import jax

from ghostmech.paper.claims import FigureResult
from ghostmech.paper.fig5a import Sizes, analyse, claims_for, draw, train_snapshots

__all__ = ["run", "QUICK", "FULL"]

QUICK = Sizes(n=32, lr=0.3, epochs=600, snapshots=(10, 100, 300, 600))
FULL = Sizes(n=100, lr=1e-2, epochs=100_001, snapshots=(100, 1000, 50_000, 100_000))


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Train the full-rank DMTS network, find its points, measure claim 5, draw panels A–H."""
    size = QUICK if quick else FULL
    k_train, k_starts = jax.random.split(key)
    task, res = train_snapshots("fig5_dmts", size, key=k_train)
    found = analyse(res, task, size.snapshots, size, key=k_starts)
    claims = claims_for(res.metrics, found, res.checkpoints, task)
    files = draw("fig5c", res, task, found, size.snapshots, out)
    return FigureResult("fig5c", claims, files, quick=quick)
