"""Figure 4A–D: a rank-two RNN learning delayed cue discrimination; loss jumps coincide
with new objects in its 2-D latent flow.

Setting (SPEC §5, 4A–D): N = 100, W = M Nᵀ (K = 2), m_k ~ N(0, 1),
n_k ~ N(0, 1/N), b ~ N(0, 0.1²), W_in and w_out Xavier-uniform,
b_out ~ U(±1/√2), r₀ = tanh(N(0, 0.3²)), α = 0.5, no noise, tanh readout on
κ = Nᵀ r, DCD 10/50/50 ms at Δt = 5 ms, SGD lr 1e-3, 100,000 epochs. Without
noise and with a fixed r₀ every trial of a type is identical, so the paper's
500 trials per type give the same loss and gradient as one: one is used.
Quick: ``QUICK`` below (what differs is listed in the figure summary).

Analysis at every checkpoint: the delay-period latent flow (u = 0)
F(κ) = α(−κ + Nᵀ tanh(M κ + b)) on a grid around the trials' κ
(:func:`ghostmech.dynamics.flow_2d`: speed map, fixed points, slow points and
ghosts). The object inventory of a checkpoint is (stable, unstable/saddle,
ghost) counts. Claim 4 is measured as: every loss jump (detect.jumps, kept
only where it lowers the loss level: not the first descent, not the fall
back after a spike) has an inventory change between the checkpoints bracketing
it, at a rate ≥ ``ENRICH_MIN`` times the rate of changes over all brackets
(the objects change WITH the loss, not at random).
The helpers (`train_rank2`, `inventory`, `portraits`, `jump_claims`,
`draw_rank2`) are shared with Fig. 4E–H (DMTS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

from ghostmech.dynamics import Flow2D, Tracking, detect_events, flow_2d, from_network
from ghostmech.networks import PRESETS, latent_trajectory, make_preset
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.plotting.dynamics import plot_phase_portrait, plot_timeline
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves
from ghostmech.plotting.video import training_video
from ghostmech.tasks import make_task
from ghostmech.training import fit, jumps

__all__ = [
    "run",
    "Sizes",
    "QUICK",
    "FULL",
    "train_rank2",
    "inventory",
    "portraits",
    "jump_claims",
    "draw_rank2",
]

DROP_TOL = 0.1  # a jump: the loss falls by ≥ 10 % of its maximum within `window` epochs
ENRICH_MIN = 2.0  # changes are ≥ 2x more frequent in jump brackets than in brackets overall
N_GRID = 41


@dataclass(frozen=True)
class Sizes:
    """One mode: optimiser, lr, epochs, checkpoints, task timings (ms), frames of the video."""

    optimizer: str
    lr: float
    epochs: int
    n_checkpoints: int
    task: dict
    n: int = 100
    n_frames: int = 12


QUICK = Sizes("sgd", 1e-2, 1000, 20, {"input": 10, "delay": 50, "response": 50}, n_frames=6)
FULL = Sizes("sgd", 1e-3, 100_000, 200, {"input": 10, "delay": 50, "response": 50}, n_frames=40)


def train_rank2(preset: str, size: Sizes, *, key: jax.Array):
    """``(task, FitResult, checkpoint epochs)`` for the rank-two preset."""
    k_net, k_fit = jax.random.split(key)
    task = make_task(**{**PRESETS[preset].task, **size.task})
    net = make_preset(preset, key=k_net, n=size.n)
    every = max(size.epochs // size.n_checkpoints, 1)
    res = fit(
        net,
        task,
        optimizer=size.optimizer,
        lr=size.lr,
        epochs=size.epochs,
        key=k_fit,
        checkpoints={"every": every},
        chunk=min(size.epochs, 2000),
    )
    return task, res, sorted(res.checkpoints)


def latent_trials(net, task) -> np.ndarray:
    """κ of every trial type, noise-free, ``[trials, time, 2]``."""
    inputs = np.asarray(task.all_trials().inputs)
    return np.stack(
        [np.asarray(latent_trajectory(net, inputs[:, i])) for i in range(inputs.shape[1])]
    )


def _box(kappas: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = kappas.reshape(-1, 2).min(0), kappas.reshape(-1, 2).max(0)
    pad = 0.5 * np.maximum(hi - lo, 0.2)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def portraits(ckpts: dict, task, epochs) -> dict[int, tuple[Flow2D, np.ndarray]]:
    """Delay-period (u = 0) latent flow and the trials' κ at each checkpoint."""
    out = {}
    for e in epochs:
        net = ckpts[e]
        kap = latent_trials(net, task)
        xlim, ylim = _box(kap)
        f = from_network(net, latent=True)
        out[e] = (flow_2d(f, xlim, ylim, n_grid=N_GRID, starts=kap.reshape(-1, 2)[::2]), kap)
    return out


def inventory(flow: Flow2D) -> tuple[int, int, int]:
    """(stable, other fixed, ghost) counts of a flow."""
    p = flow.points
    stable = p.count("stable_node", "stable_focus")
    return stable, p.count("fixed") - stable, p.count("ghost")


def _changes(flows: dict) -> list[int]:
    eps = sorted(flows)
    inv = [inventory(flows[e][0]) for e in eps]
    return [eps[i] for i in range(1, len(eps)) if inv[i] != inv[i - 1]]


def _bracket(epochs: list[int], e: int) -> tuple[int, int]:
    before = max((c for c in epochs if c <= e), default=epochs[0])
    after = min((c for c in epochs if c > e), default=epochs[-1])
    return before, after


def _net_drop(loss: np.ndarray, j: int, window: int) -> float:
    """Median loss over [j − 3w, j − w) minus that over (j + w, j + 3w]: a jump lowers the
    level (the first descent, j < 3w, and the fall back after a spike do not count)."""
    if j < 3 * window:
        return 0.0
    before = np.median(loss[j - 3 * window : j - window])
    after = (
        np.median(loss[j + window + 1 : j + 3 * window + 1])
        if j + window + 1 < loss.size
        else loss[-1]
    )
    return float(before - after)


def jump_claims(loss: np.ndarray, flows: dict, window: int) -> tuple[list[Claim], np.ndarray]:
    """Claim 4: the object inventory changes at every loss jump, far more often than at a
    random checkpoint bracket (enrichment ≥ ``ENRICH_MIN``)."""
    found = jumps(loss, window=window, drop_tol=DROP_TOL)
    found = np.asarray(
        [j for j in found if _net_drop(loss, int(j), window) >= DROP_TOL * loss.max()], dtype=int
    )
    eps = sorted(flows)
    changes = set(_changes(flows))
    brackets = [_bracket(eps, int(j)) for j in found]
    with_change = [any(a < c <= b for c in changes) for a, b in brackets]
    base = len(changes) / max(len(eps) - 1, 1)  # chance that a bracket holds a change
    at_jumps = float(np.mean(with_change)) if with_change else 0.0
    inv = {e: inventory(flows[e][0]) for e in eps}
    m = {
        "jumps": [int(j) for j in found],
        "inventory_changes": sorted(changes),
        "jumps_with_new_objects": int(sum(with_change)),
        "change_rate_at_jumps": at_jumps,
        "change_rate_any_bracket": base,
        "first_inventory": str(inv[eps[0]]),
        "final_inventory": str(inv[eps[-1]]),
        "initial_loss": float(loss[0]),
        "final_loss": float(loss[-1]),
    }
    claim = Claim(
        "jumps_with_new_objects",
        "loss jumps coincide with new dynamical objects in the latent flow",
        m,
        verdict_all(
            [
                verdict_of(len(found) >= 1 and all(with_change)),
                verdict_of(at_jumps >= ENRICH_MIN * base),
            ]
        ),
        f"≥ 1 jump (fall ≥ {DROP_TOL}·max L within {window} epochs that lowers the median level "
        f"over ±3·{window} epochs by as much); "
        "the checkpoint bracket of every jump holds an inventory change; change rate at jumps "
        f"≥ {ENRICH_MIN} × the rate over all brackets; inventory = (stable, other fixed, ghost)",
    )
    return [claim], found


def draw_rank2(name: str, loss, flows: dict, found, out: Path, frames: int) -> list[Path]:
    """A: loss with jumps; B–D: portraits before / after the first jump and at the end;
    E: object counts; plus a GIF of the portraits across checkpoints."""
    eps = sorted(flows)
    first = int(found[0]) if len(found) else eps[len(eps) // 2]
    b, a = _bracket(eps, first)
    fig, axes = new_figure(1, 5)
    plot_curves(np.arange(loss.size), {"loss": loss}, ax=axes[0], marks=list(found))
    for ax, e in zip(axes[1:4], (b, a, eps[-1]), strict=True):
        fl, kap = flows[e]
        plot_phase_portrait(fl, kap, ax=ax, title=f"epoch {e:,}")
    events = []
    for p, c in zip(eps[:-1], eps[1:], strict=True):
        events += detect_events(c, flows[p][0].points, flows[c][0].points, 0.2)
    tr = Tracking(eps, [flows[e][0].points for e in eps], events, "ok")
    plot_timeline(tr, ax=axes[4])
    for ax, letter in zip(axes, "ABCDE", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / name)
    pick = sorted({eps[int(i)] for i in np.linspace(0, len(eps) - 1, frames)})
    k = loss.size // 2000 + 1
    video = training_video(
        [(e, flows[e][0]) for e in pick],
        Path(out) / f"{name}_training",
        loss=(np.arange(loss.size)[::k], loss[::k]),
    )
    return [*files, video]


def run_rank2(name: str, preset: str, size: Sizes, quick: bool, out: Path, key: jax.Array):
    """Train, analyse every checkpoint, measure claim 4, draw the panels and the video."""
    task, res, eps = train_rank2(preset, size, key=key)
    flows = portraits(res.checkpoints, task, eps)
    loss = res.metrics["loss"]
    window = max(size.epochs // 100, 5)
    claims, found = jump_claims(loss, flows, window)
    files = draw_rank2(name, loss, flows, found, out, size.n_frames)
    return FigureResult(name, claims, files, quick=quick)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Rank-two DCD (Fig. 4A–D)."""
    return run_rank2("fig4a", "fig4_dcd", QUICK if quick else FULL, quick, out, key)
