"""Figure 4A–D: a rank-two RNN learning delayed cue discrimination; loss jumps coincide
with new objects in its 2-D latent flow.

Setting (docs/model.md §4, 4A–D): N = 100, W = M Nᵀ (K = 2), m_k ~ N(0, 1),
n_k ~ N(0, 1/N), b ~ N(0, 0.1²), W_in and w_out Xavier-uniform,
b_out ~ U(±1/√2), r₀ = tanh(N(0, 0.3²)), α = 0.5, no noise, tanh readout on
κ = Nᵀ r, DCD 10/50/50 ms at Δt = 5 ms, SGD lr 1e-3, 100,000 epochs. Without
noise and with a fixed r₀ every trial of a type is identical, so the paper's
500 trials per type give the same loss and gradient as one: one is used.

DEVIATION from docs/model.md §4: both modes use the preset
``fig4_dcd_strong_input``, whose W_in ~ U(−1, 1) (PyTorch's ``nn.Linear``
default for one input) instead of Xavier-uniform (U(±0.24)). With the paper's
W_in (the shipped config ``fig4_dcd``) the network settles on z ≡ 0 (loss 10/22) and the few
seeds that escape fall back at a gradient spike: 0 of 16 end below the plateau
after 30,000 epochs, 6 of 16 with the wider W_in (docs/reproduction.md, "Fig. 4").
Every mode trains ``seeds`` networks (one vmapped sweep, seeds s₀, s₀ + 1, ...,
s₀ drawn from the key) and shows the first that escapes and stays
(`escape_stats`); the claim reports the escape fraction over all of them.
Quick: SGD lr 1e-2 for 3000 epochs with the gradient's norm
clipped at 1 (``clip_norm``, a second deviation: at lr 1e-2 unclipped SGD is
thrown back to the plateau by the gradient spike at the bifurcation; clipped,
4 of 16 seeds escape and stay for each of three keys tried).

Analysis at every checkpoint: the delay-period latent flow (u = 0)
F(κ) = α(−κ + Nᵀ tanh(M κ + b)) on a grid around the trials' κ
(:func:`ghostmech.dynamics.flow_2d`: speed map, fixed points, slow points and
ghosts). The object inventory of a checkpoint is (stable, unstable/saddle,
ghost) counts, a ghost counting when its dwell π/√ε is ≥ ``DWELL_FRACTION`` × the
delay (`inventory`). Claim 4 is measured over every network that escapes its
plateau (`pooled_jump_claim`): each loss event (detect.jumps, kept only where it
lowers the loss level to a new low: not the first descent, not the fall back after a
spike, `level_jumps`) either has an inventory change between the checkpoints
bracketing it or not; pooled over the networks, events hold a change more often than
spans of as many checkpoint intervals placed at random (one-sided exact
Poisson-binomial test at 5 %) and at ≥ ``ENRICH_MIN`` times their rate (the objects
change WITH the loss, not at random).
The helpers (`train_rank2`, `analyse_rank2`, `inventory`, `portraits`,
`jump_claims`, `draw_rank2`) are shared with Fig. 4E–H (DMTS).

Sizes (`sizes`, `rank2_sizes`): preset, task timings, batch, optimiser, lr, clipping,
seeds, epochs, chunk and checkpoint spacing of both modes come from the shipped config
``fig4_dcd_strong_input`` (quick / full variant), so ``ghostmech sweep
fig4_dcd_strong_input --quick`` trains this figure's networks; only the video frames
(drawing) and the jump window (analysis) stay here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np
from matplotlib.ticker import MaxNLocator
from scipy.ndimage import median_filter

from ghostmech.dynamics import Flow2D, Tracking, detect_events, flow_2d, from_network
from ghostmech.networks import latent_trajectory, make_preset
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.plotting.dynamics import KIND_STYLE, plot_phase_portrait, plot_timeline
from ghostmech.plotting.style import COLORS, label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves
from ghostmech.plotting.video import training_video
from ghostmech.runs.analysis import judge_candidates, task_span
from ghostmech.stats import ALPHA, fraction_fields, poisson_binomial_greater
from ghostmech.tasks import make_task
from ghostmech.training import jumps, sweep

__all__ = [
    "run",
    "Sizes",
    "CONFIG",
    "sizes",
    "rank2_sizes",
    "train_rank2",
    "network_of",
    "level_jumps",
    "escape_stats",
    "analyse_rank2",
    "inventory",
    "portraits",
    "jump_claims",
    "jump_record",
    "pooled_jump_claim",
    "draw_rank2",
    "judge_flow",
]

DROP_TOL = 0.1  # a jump: the loss falls by ≥ 10 % of its maximum within `window` epochs
ENRICH_MIN = 2.0  # changes are ≥ 2x more frequent in jump brackets than in brackets overall
N_GRID = 41
DWELL_FRACTION = 0.5  # a ghost counts in the inventory when π/√ε ≥ this × the delay (steps)


@dataclass(frozen=True)
class Sizes:
    """One mode: preset, optimiser, lr, epochs, checkpoint spacing, task (`make_task`
    keywords, windows in steps), N, seeds trained, batch (config ``task.batch``), chunk and
    gradient-norm clipping (training, from the config); video frames (drawing) and the jump
    window (analysis)."""

    preset: str
    optimizer: str
    lr: float
    epochs: int
    every: int
    task: dict
    n: int = 100
    seeds: int = 16
    batch: Any = "all"
    chunk: int = 2000
    clip_norm: float | None = None  # gradient-norm clipping (not in docs/model.md §4); None: none
    n_frames: int = 12
    window: int | None = None  # jump window (epochs); None: max(epochs // 100, 5)

    @property
    def jump_window(self) -> int:
        return self.window or max(self.epochs // 100, 5)


CONFIG = "fig4_dcd_strong_input"  # the shipped config (quick and full variants) this figure trains
FRAMES = {True: 6, False: 40}  # video frames (drawing)


def rank2_sizes(config: str, quick: bool, *, n_frames: int, window: int | None = None) -> Sizes:
    """The training sizes of the shipped config ``config`` (quick or full variant) with
    the figure's drawing and analysis sizes ``n_frames`` and ``window``."""
    cfg = settings.shipped(config, quick=quick)
    batch = cfg.task.batch if cfg.task.batch == "all" else cfg.task.batch.model_dump()
    return Sizes(
        preset=cfg.network.preset,
        optimizer=cfg.training.optimizer,
        lr=float(cfg.training.lr),
        epochs=cfg.training.epochs,
        every=settings.checkpoint_every(cfg),
        task={"name": cfg.task.name, **cfg.task.steps()},
        n=cfg.network.n,
        seeds=settings.n_seeds(cfg),
        batch=batch,
        chunk=cfg.training.chunk,
        clip_norm=cfg.training.clip_norm,
        n_frames=n_frames,
        window=window,
    )


def sizes(quick: bool, config: str = CONFIG) -> Sizes:
    """The sizes of the shipped config ``config`` (quick or full variant), drawing here."""
    return rank2_sizes(config, quick, n_frames=FRAMES[quick])


def train_rank2(size: Sizes, *, key: jax.Array):
    """``(task, SweepResult, checkpoint epochs, seeds)``: ``size.seeds`` networks of
    ``size.preset`` trained as one vmapped sweep, seeds s₀, s₀ + 1, ... with s₀ drawn from ``key``."""
    task = make_task(**size.task)
    s0 = int(jax.random.randint(key, (), 0, 2**30))
    seeds = list(range(s0, s0 + size.seeds))
    batch = size.batch if size.batch == "all" else _batch(task, size.batch)
    res = sweep(
        lambda k: make_preset(size.preset, key=k, n=size.n),
        task,
        lrs=[size.lr],
        seeds=seeds,
        epochs=size.epochs,
        optimizer=size.optimizer,
        batch=batch,
        checkpoints={"every": size.every},
        chunk=size.chunk,
        **({} if size.clip_norm is None else {"clip_norm": size.clip_norm}),
    )
    return task, res, sorted(res.checkpoints), seeds


def _batch(task, spec: dict):
    """A config ``task.batch`` table: ``{repeat = n}`` (every type n times) or ``{sample = n}``."""
    return task.repeat_trials(spec["repeat"]) if "repeat" in spec else int(spec["sample"])


def network_of(stacked, i: int):
    """Network ``i`` of a sweep's stacked networks (leaves ``[lr, seed, ...]``, one lr)."""
    return jax.tree.map(lambda x: x[0, i] if eqx.is_array(x) else x, stacked)


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


def inventory(flow: Flow2D, min_dwell: float = 0.0) -> tuple[int, int, int]:
    """(stable, other fixed, ghost) counts of a flow; a ghost counts only when its predicted
    dwell time π/√ε is at least ``min_dwell`` (steps).

    `analyse_rank2` sets ``min_dwell`` to ``DWELL_FRACTION`` × the task's delay: a ghost
    that cannot hold the state for a good part of the delay does not implement it (the
    DMTS flow also has weak ghosts, ε ≈ 0.2 and dwell ≈ 6.5 steps against a 16-step
    delay, at the edges of the portrait's box, which the finder reports at some
    checkpoints and not at others as the box moves).
    """
    p = flow.points
    stable = p.count("stable_node", "stable_focus")
    if min_dwell > 0:
        ghosts = int(np.sum(np.asarray(p.dwell, float)[p.where("ghost")] >= min_dwell))
    else:
        ghosts = p.count("ghost")
    return stable, p.count("fixed") - stable, ghosts


def _changes(flows: dict, min_dwell: float = 0.0) -> list[int]:
    eps = sorted(flows)
    inv = [inventory(flows[e][0], min_dwell) for e in eps]
    return [eps[i] for i in range(1, len(eps)) if inv[i] != inv[i - 1]]


def _bracket(epochs: list[int], e: int, slack: int = 0) -> tuple[int, int]:
    """Checkpoints around epoch ``e``: the last ≤ e − slack and the first > e and ≥ e + slack."""
    before = max((c for c in epochs if c <= e - slack), default=epochs[0])
    after = min((c for c in epochs if c > e and c >= e + slack), default=epochs[-1])
    return before, after


def _events(found: np.ndarray, window: int) -> list[int]:
    """One epoch per loss event: jumps within ``window`` epochs of an event's first jump join it."""
    out: list[int] = []
    for j in sorted(int(x) for x in found):
        if not out or j - out[-1] > window:
            out.append(j)
    return out


def _base_rate(epochs: list[int], changes: set, k: int) -> float:
    """Fraction of the spans of ``k`` consecutive checkpoint intervals that hold a change."""
    spans = [(epochs[i], epochs[i + k]) for i in range(len(epochs) - k)]
    hits = [any(a < c <= b for c in changes) for a, b in spans]
    return float(np.mean(hits)) if hits else 1.0


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


def level_jumps(loss: np.ndarray, window: int) -> np.ndarray:
    """Jumps (`ghostmech.training.jumps`) that lower the loss level by ≥ ``DROP_TOL``·max L
    to a new low: the median over (j + w, j + 3w] is below every earlier level (running
    median over ``window`` epochs, up to j − w), so the fall back after a spike does not count."""
    found = jumps(loss, window=window, drop_tol=DROP_TOL)
    level = median_filter(loss, size=window, mode="nearest")
    keep = []
    for j in found:
        j = int(j)
        if _net_drop(loss, j, window) < DROP_TOL * loss.max():
            continue
        after = (
            np.median(loss[j + window + 1 : j + 3 * window + 1])
            if j + window + 1 < loss.size
            else loss[-1]
        )
        if after < level[: j - window].min():
            keep.append(j)
    return np.asarray(keep, dtype=int)


def escape_stats(losses: np.ndarray, window: int) -> dict:
    """Which of the seeds' loss curves ``[seed, epoch]`` leave their plateau, and the seed shown.

    escaped: ≥ 1 level-lowering jump; kept: escaped and the final loss (mean of the last
    1 %) is still ≥ ``DROP_TOL``·max L below the level before its first jump. The seed
    shown is the first kept one, else the first escaped one, else the first.
    """
    esc, kept = [], []
    for loss in losses:
        found = level_jumps(loss, window)
        esc.append(found.size > 0)
        if found.size:
            j = int(found[0])
            before = np.median(loss[j - 3 * window : j - window])
            final = loss[-max(loss.size // 100, 1) :].mean()
            kept.append(bool(before - final >= DROP_TOL * loss.max()))
        else:
            kept.append(False)
    order = [i for i in range(len(losses)) if kept[i]] + [i for i in range(len(losses)) if esc[i]]
    return {
        "escaped_fraction": float(np.mean(esc)),
        "kept_fraction": float(np.mean(kept)),
        "shown": order[0] if order else 0,
    }


def jump_record(loss: np.ndarray, flows: dict, window: int, min_dwell: float = 0.0) -> dict:
    """One network's loss events and whether the object inventory changes at each.

    events: level jumps (`level_jumps`) within ``window`` epochs of each other form one
    event; ``with_change[i]``: the checkpoints bracketing event i ± ``window`` hold an
    inventory change; ``chance[i]``: the fraction of all spans of as many checkpoint
    intervals in this network's run that hold a change (what a span placed at random
    would show, given the network's changes: the null of "objects change at random
    times").
    """
    found = level_jumps(loss, window)
    events = _events(found, window)
    eps = sorted(flows)
    changes = set(_changes(flows, min_dwell))
    brackets = [_bracket(eps, j, window) for j in events]
    spans = [eps.index(b) - eps.index(a) for a, b in brackets]
    return {
        "found": found,
        "events": events,
        "changes": sorted(changes),
        "with_change": [any(a < c <= b for c in changes) for a, b in brackets],
        "chance": [_base_rate(eps, changes, k) for k in spans],
        "inventories": [str(inventory(flows[e][0], min_dwell)) for e in (eps[0], eps[-1])],
        "after_events": [str(inventory(flows[b][0], min_dwell)) for _, b in brackets],
        "initial_loss": float(loss[0]),
        "final_loss": float(loss[-1]),
    }


def pooled_jump_claim(records: list[dict], extra: dict | None = None) -> Claim:
    """Claim 4 over the escaped networks: loss events hold an inventory change more often
    than spans placed at random do.

    Pooled over every event of every network: k events of n hold a change, against
    the chance probabilities pᵢ of their spans (`jump_record`). Test: one-sided exact
    Poisson-binomial P(K ≥ k | pᵢ) < ``ALPHA`` (`ghostmech.stats.poisson_binomial_greater`),
    and the rate k/n at least ``ENRICH_MIN`` × the mean chance (the objects change
    WITH the loss, not at random). Reported: k/n with its 95 % Clopper–Pearson interval.
    (Until issue 12 the rule asked every event of the one network shown to hold a
    change; a single network's late small jumps made it fail for some seeds.)
    """
    with_change = [w for r in records for w in r["with_change"]]
    chance = [p for r in records for p in r["chance"]]
    n, k = len(with_change), int(sum(with_change))
    p_value = poisson_binomial_greater(k, chance) if n else 1.0
    rate, base = (k / n if n else 0.0), (float(np.mean(chance)) if n else 0.0)
    first = records[0] if records else None
    m = {
        **(extra or {}),
        "networks_analysed": len(records),
        **fraction_fields("events_with_new_objects", k, n),
        "expected_by_chance": round(float(np.sum(chance)), 3),
        "change_rate_at_events": rate,
        "change_rate_same_span": base,
        "p_value": p_value,
        "per_network": [f"{sum(r['with_change'])}/{len(r['events'])}" for r in records],
    }
    if first is not None:  # the network shown
        m |= {
            "jumps": [int(j) for j in first["found"]],
            "events": first["events"],
            "inventory_changes": first["changes"],
            "first_inventory": first["inventories"][0],
            "inventory_after_events": first["after_events"],
            "final_inventory": first["inventories"][1],
            "initial_loss": first["initial_loss"],
            "final_loss": first["final_loss"],
        }
    return Claim(
        "jumps_with_new_objects",
        "loss jumps coincide with new dynamical objects in the latent flow",
        m,
        verdict_all(
            [
                verdict_of(n >= 1 and p_value < ALPHA),
                verdict_of(n >= 1 and rate >= ENRICH_MIN * base),
            ]
        ),
        f"over every loss event of the {len(records)} escaped network(s) (event: jumps = falls "
        f"≥ {DROP_TOL}·max L that lower the median level to a new low, within the jump window "
        "of each other): the checkpoints bracketing the event ± the window hold an inventory "
        "change more often than a span of as many checkpoint intervals placed at random "
        f"(one-sided exact Poisson-binomial test, p < {ALPHA}) and at ≥ {ENRICH_MIN} × its "
        f"rate; inventory = (stable, other fixed, ghost with π/√ε ≥ {DWELL_FRACTION} × delay)",
    )


def jump_claims(
    loss: np.ndarray,
    flows: dict,
    window: int,
    extra: dict | None = None,
    min_dwell: float = 0.0,
) -> tuple[list[Claim], np.ndarray]:
    """Claim 4 (`pooled_jump_claim`) from one network's loss and flows:
    ``([claim], level jumps)``."""
    rec = jump_record(loss, flows, window, min_dwell)
    return [pooled_jump_claim([rec], extra)], rec["found"]


def _visible_kinds(ax, points) -> list[str]:
    """Kinds of the converged points that lie inside the panel's limits (the others are
    outside the portrait: not drawn, so not in the legend)."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    x = np.asarray(points.xstar, float)
    inside = (x[:, 0] >= x0) & (x[:, 0] <= x1) & (x[:, 1] >= y0) & (x[:, 1] <= y1)
    kinds = {str(k) for k, i in zip(points.kind, inside, strict=True) if i}
    return [k for k in KIND_STYLE if k in kinds]


def portrait_legend(fig, axes, points_per_axis) -> None:
    """One legend under the figure for the portraits: the kinds of points they show, the
    two nullclines and the trial trajectories (colours as `plot_phase_portrait` draws them);
    the per-panel legends, which listed points outside the panels, are removed."""
    from matplotlib.lines import Line2D

    kinds: list[str] = []
    for ax, pts in zip(axes, points_per_axis, strict=True):
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        kinds += [k for k in _visible_kinds(ax, pts) if k not in kinds]
    handles = [Line2D([], [], ls="none", ms=7, label=k.replace("_", " "), **KIND_STYLE[k])
               for k in kinds]  # fmt: skip
    handles += [
        Line2D([], [], color=COLORS[4], lw=1.0, label="κ₁ nullcline (dκ₁/dt = 0)"),
        Line2D([], [], color=COLORS[5], lw=1.0, label="κ₂ nullcline (dκ₂/dt = 0)"),
        Line2D([], [], color=COLORS[2], lw=1.0, label="trial trajectories"),
        Line2D([], [], color="0.35", lw=0.6, label="flow (streamlines)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 8),
               frameon=False)  # fmt: skip


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
    portrait_legend(fig, axes[1:4], [flows[e][0].points for e in (b, a, eps[-1])])
    events = []
    for p, c in zip(eps[:-1], eps[1:], strict=True):
        events += detect_events(c, flows[p][0].points, flows[c][0].points, 0.2)
    tr = Tracking(eps, [flows[e][0].points for e in eps], events, "ok")
    plot_timeline(tr, ax=axes[4])
    axes[4].yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
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


def judge_flow(net, task, flow: Flow2D, kap: np.ndarray) -> list[dict]:
    """Every ghost candidate of ``flow`` judged on the trials' κ ``[trials, time, 2]``
    (docs/theory.md §4): kind (ghost | shallow | off_path) and its measured passage."""
    p = flow.points
    cands = [p.xstar[r] for r in p.where("ghost")]
    f = from_network(net, latent=True)
    judged = judge_candidates(f, kap, task_span(net, task), cands, float(net.alpha))
    keys = ("kind", "eps", "contrast", "share", "passage_full", "measured_delay",
            "measured_in_bottleneck", "predicted_in_bottleneck")  # fmt: skip
    return [{k: bn.to_dict()[k] for k in keys} for _, bn in judged]


def _passage_summary(nets, task, flows) -> dict:
    """Kinds of the candidates at every checkpoint; the final ones in full."""
    eps = sorted(flows)
    per = {e: judge_flow(nets[e], task, *flows[e]) for e in eps}
    ghost_at = [e for e in eps if any(d["kind"] == "ghost" for d in per[e])]
    final = per[eps[-1]]
    return {
        "first_task_ghost_epoch": ghost_at[0] if ghost_at else -1,
        "checkpoints_with_task_ghost": len(ghost_at),
        "final_candidate_kinds": str([d["kind"] for d in final]),
        "final_passages": str(
            [{k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()} for d in final]
        ),  # fmt: skip
    }


def analyse_rank2(size: Sizes, key: jax.Array):
    """Train ``size.seeds`` networks, pick the seed shown (`escape_stats`), analyse the
    checkpoints of every escaped network and measure claim 4 over them (`pooled_jump_claim`):
    ``(task, loss, flows, networks, found, claims)`` of the network shown, and
    ``{index: (networks, flows)}`` of every escaped network."""
    task, res, eps, seeds = train_rank2(size, key=key)
    losses = np.asarray(res.metrics["loss"])[0]
    window = size.jump_window
    stats = escape_stats(losses, window)
    i = stats["shown"]
    min_dwell = DWELL_FRACTION * task.delay
    escaped = [j for j in range(len(losses)) if level_jumps(losses[j], window).size]
    records, shown, analysed = [], None, {}
    for j in [i] + [j for j in escaped if j != i]:
        nets_j = {e: network_of(res.checkpoints[e], j) for e in eps}
        flows_j = portraits(nets_j, task, eps)
        if j == i:
            shown = (nets_j, flows_j)
        if j == i and j not in escaped:
            continue  # nothing escaped: the first seed is shown, it has no event
        analysed[j] = (nets_j, flows_j)
        records.append(jump_record(losses[j], flows_j, window, min_dwell))
    nets, flows = shown
    extra = {"preset": size.preset, "seeds": size.seeds, "seed_shown": seeds[i], **stats}
    extra["min_ghost_dwell_steps"] = min_dwell
    extra |= _passage_summary(nets, task, flows)  # reported, not judged (theory §4)
    claim = pooled_jump_claim(records, extra)
    found = level_jumps(losses[i], window)
    return task, losses[i], flows, nets, found, [claim], analysed


def run_rank2(name: str, size: Sizes, quick: bool, out: Path, key: jax.Array):
    """Train, analyse every checkpoint, measure claim 4, draw the panels and the video."""
    _, loss, flows, _, found, claims, _ = analyse_rank2(size, key)
    files = draw_rank2(name, loss, flows, found, out, size.n_frames)
    return FigureResult(name, claims, files, quick=quick)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Rank-two DCD (Fig. 4A–D)."""
    return run_rank2("fig4a", sizes(quick), quick, out, key)
