"""Figure 7C–D: full-rank DCD learning-rate sweep (claim 7), as Fig. 7A–B with a tanh readout.

Setting (SPEC §5, 7C–D): N = 100, W Xavier-uniform, b ~ U(−1, 1), r₀ = 0,
no noise, one trial per type, DCD 30/80/50 ms, SGD, lr = logspace(−3, 1, 20),
20 seeds, 20,000 epochs. Quick: N = 100, lr = logspace(−2, 1, 7), 3 seeds, 500
epochs. Definitions (learned, trapped, saturation) are those of
:mod:`ghostmech.paper.fig7a`; for the tanh readout a trapped network outputs
±1 with confidence (φ′ = 1 − z² ≈ 0) while its rates stay unsaturated.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax

from ghostmech.paper.claims import FigureResult
from ghostmech.paper.fig7a import FULL, run_sweep_figure
from ghostmech.paper.fig7a import QUICK as QUICK_DMTS

__all__ = ["run", "QUICK", "FULL"]

QUICK = dataclasses.replace(QUICK_DMTS, epochs=500)  # DCD learns faster than DMTS


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Full-rank DCD lr sweep (claim 7)."""
    return run_sweep_figure("fig7c", "fig7_dcd", QUICK if quick else FULL, quick, out, key)
