"""Figure 4E–H: a rank-two RNN learning delayed match-to-sample; loss jumps coincide with new
objects in its latent flow, which ends with a cycle carrying ghosts.

Setting (docs/model.md §4, 4E–H): as Fig. 4A–D (N = 100, K = 2, same initialisers) with
DMTS 30/80/50 ms (both cue windows 30 ms), noise s.d. 1e-2, a sigmoid readout
on κ, Adam lr 1e-4, 20,000 epochs: used as stated (preset ``fig4_dmts``; with it
every seed tried leaves its plateaus). ``FULL`` trains 8 seeds, ``QUICK`` 4 seeds
for 3000 epochs at the same lr, and each shows the first seed that escapes and
stays (`ghostmech.paper.fig4a.escape_stats`). The jump window is 30 epochs in both
modes: at lr 1e-4 the first jumps come within a few hundred epochs whatever the
run's length, and the default (1 % of the run, 200 epochs) counted them as the
first descent.

Claim 4 (DMTS part) is measured as in :mod:`ghostmech.paper.fig4a` (jumps and
inventory changes coincide), plus: the final delay-period flow F(κ) has a
limit cycle (a long Euler run of F from the trials' end states neither stops
nor escapes, and returns to within ``CYCLE_TOL`` of an earlier state) and
slow points or ghosts on or near it.

Sizes: `QUICK` / `FULL` stay here (several seeds and analysis windows the
shipped ``fig4_dmts`` config, one network, does not hold).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from ghostmech.dynamics import from_network, sample_starts
from ghostmech.paper.claims import Claim, FigureResult, verdict_of
from ghostmech.paper.fig4a import Sizes, analyse_rank2, draw_rank2

__all__ = ["run", "QUICK", "FULL", "PAPER", "limit_cycle"]

_DMTS_MS = {"input": 30, "delay": 80, "response": 50}
QUICK = Sizes("fig4_dmts", "adam", 1e-4, 3000, 20, _DMTS_MS, n_frames=6, seeds=4)
FULL = Sizes("fig4_dmts", "adam", 1e-4, 20_000, 200, _DMTS_MS, n_frames=40, seeds=8, window=30)
PAPER = Sizes("fig4_dmts", "adam", 1e-4, 20_000, 200, _DMTS_MS, n_frames=40)
CYCLE_TOL = 1e-2  # return distance / orbit diameter
STOP_TOL = 1e-6  # a run whose final speed is below this (× its initial speed) has stopped


def limit_cycle(f, starts: np.ndarray, *, steps: int = 4000, dt: float = 0.5) -> dict:
    """Euler-run ż = f(z) from ``starts``; report whether the end is periodic (not a point)."""
    xs = np.asarray(sample_starts(f, starts, n_steps=steps, dt=dt, every=1, key=jax.random.key(0)))
    xs = xs.reshape(steps + 1, len(starts), -1)
    tail = xs[steps // 2 :]
    out = {"periodic_runs": 0, "return_distance": float("nan"), "period_steps": -1}
    for k in range(len(starts)):
        orbit = tail[:, k]
        diam = float(np.ptp(orbit, axis=0).max())
        speed = float(np.linalg.norm(np.asarray(f(orbit[-1]))))
        if diam <= 1e-6 or speed <= STOP_TOL * (1 + float(np.linalg.norm(np.asarray(f(xs[0, k]))))):
            continue
        d = np.linalg.norm(orbit[:-20] - orbit[-1], axis=1) / diam
        close = np.flatnonzero(d <= CYCLE_TOL)
        if close.size:  # the most recent return: the minimum of the last run of close states
            start = close[-1]
            while start - 1 in close:
                start -= 1
            i = start + int(np.argmin(d[start : close[-1] + 1]))
            out = {
                "periodic_runs": out["periodic_runs"] + 1,
                "return_distance": float(d[i]),
                "period_steps": int(len(orbit) - 1 - i),
            }
    return out


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Rank-two DMTS (Fig. 4E–H): claim 4 and the final cycle with ghosts."""
    size = QUICK if quick else FULL
    _, loss, flows, nets, found, claims = analyse_rank2(size, key)
    last = max(flows)
    final, kap = flows[last]
    f = from_network(nets[last], latent=True)
    cyc = limit_cycle(f, kap[:, -1])
    slow = final.points.count("ghost", "slow")
    claims.append(
        Claim(
            "cycle_with_ghosts",
            "the trained DMTS latent flow holds a limit cycle with ghosts / slow points",
            {**cyc, "ghosts_and_slow_points": slow},
            verdict_of(cyc["periodic_runs"] >= 1 and slow >= 1),
            f"≥ 1 Euler run returns within {CYCLE_TOL}·diameter of an earlier state without "
            "stopping; ≥ 1 ghost or slow point in the final flow",
        )
    )
    files = draw_rank2("fig4e", loss, flows, found, out, size.n_frames)
    return FigureResult("fig4e", claims, files, quick=quick)
