"""Figure 3A: a rank-one RNN learns delayed activation through a ghost, without a bifurcation.

Setting (docs/model.md §4, 3A): N = 100, W = m nᵀ, m, n ~ N(0, 1/N), b = 0, r₀ = −0.3,
α = 0.5, readout z = σ(β(κ − κ_θ)) with β = 10, κ_θ = 1 (Eq. 36), DA with
T = 20 (+20) steps, plain SGD on L = Σ_t (z_t − ŷ_t)²/T. Full: lr 0.003,
500,000 epochs, latent flow F(κ) = −κ + nᵀ tanh(m κ + b) drawn at epochs 1,
200,001 and 499,001. Quick: lr 0.01, 16,000 epochs (the same sequence, ~30x
shorter plateau).

Training goes through the engine (`ghostmech.training.engine`) with the exact
rank-one kernel (:mod:`ghostmech.training.kernels`), split at each checkpoint. Fixed points are counted at every
checkpoint by sign changes of F on a fine κ grid (numpy, a second
implementation), and cross-checked with :func:`ghostmech.dynamics.flow_1d`
at the panel epochs, which also finds the ghosts (F′ = 0, F·F″ > 0).

Ghost or ramp (docs/theory.md §4): at every checkpoint each speed-minimum
candidate of the latent flow is judged on the DA trajectory itself, from its
start to the readout crossing (:func:`ghostmech.dynamics.bottleneck`): a
``ghost`` only when the trajectory passes it as a bottleneck (contrast ≥ 2,
≥ 1/2 of its steps where the speed is ≤ 2 × the minimum), ``shallow`` when
the delay is made by a ramp; ``no_minimum`` when no candidate lies on the path.
At full size (6 seeds, docs/reproduction.md) the drop leaves a ramp (after a
bottleneck that lasts < 2,000 epochs in 2 seeds) and a lasting bottleneck forms
70,000–150,000 epochs later, so the full mode asserts a
ghost at the end and reports when it forms; the quick mode (16,000 epochs)
stops at the ramp stage and reports the kind without judging it.

The helpers here (`rank1_init`, `train_checkpointed`, `as_network`,
`count_fixed_points`, `latent_flow_1d`) are shared by Figs. 3B, 6A, 8B and
the critical-delay figure.

Sizes (`sizes`): the preset, task timings, optimiser, lr, epochs, chunk and
checkpoint epochs of both modes come from the shipped config ``fig3a``
(``fig3a.quick.toml`` / ``fig3a.full.toml``), so ``ghostmech sweep fig3a
--quick`` trains this figure's quick network (also the worked example of
docs/guide/tutorial.md). Only drawing stays here: the video frames and the
paper's panel epochs (`PANELS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.dynamics import Flow1D, flow_1d, from_network, scalar_flow
from ghostmech.networks import RateRNN, latent_flow, make_preset
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.plotting.dynamics import plot_flow_1d
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves
from ghostmech.plotting.video import training_video
from ghostmech.runs.analysis import judge_candidates, task_span, task_trajectories
from ghostmech.tasks import DelayedActivation
from ghostmech.training import init_state, jumps
from ghostmech.training.engine import KernelExecutor, MemorySink, drive, make_schedule, stack

__all__ = [
    "run",
    "Sizes",
    "CONFIG",
    "sizes",
    "rank1_init",
    "train_checkpointed",
    "as_network",
    "count_fixed_points",
    "latent_flow_1d",
    "draw_flows",
    "mechanism",
]

PRESET = "fig3a"
DROP_MIN = 0.5  # the jump must remove ≥ half of the initial loss within `window` epochs
GRAD_JUMP_MIN = 10.0  # max |∇L| near the drop / median |∇L| over the plateau's first half
FINAL_LOSS_MAX = 0.1  # learned: final L below 10 % of the initial L ≈ 1


@dataclass(frozen=True)
class Sizes:
    """One mode: preset, delay = response (steps), lr, epochs, chunk, checkpoint epochs
    (training, from the config); video frames (0: the panels) and panel epochs (None: 1,
    the first checkpoint after the drop, the last) (drawing)."""

    preset: str
    delay: int
    lr: float
    epochs: int
    chunk: int
    checkpoints: tuple[int, ...]
    n_frames: int
    panel_epochs: tuple[int, ...] | None


CONFIG = "fig3a"  # the shipped config (quick and full variants) this figure trains
PANELS = (1, 200_001, 499_001)  # the paper's panel epochs (full mode; drawing only)
FRAMES = {True: 0, False: 30}  # video frames (quick: the panels only)


def sizes(quick: bool, config: str = CONFIG) -> Sizes:
    """The training sizes of the shipped config ``config`` (quick or full variant) and
    this module's drawing sizes (the paper's panels in the full mode, where they fit)."""
    cfg = settings.shipped(config, quick=quick)
    settings.require_rank1_da(cfg)
    epochs = cfg.training.epochs
    panels = None if quick else tuple(e for e in PANELS if e < epochs) or None
    return Sizes(
        preset=cfg.network.preset or PRESET,
        delay=settings.delay_steps(cfg),
        lr=float(cfg.training.lr),
        epochs=epochs,
        chunk=cfg.training.chunk,
        checkpoints=settings.checkpoint_list(cfg),
        n_frames=FRAMES[quick],
        panel_epochs=panels,
    )


def rank1_init(keys: jax.Array, preset: str = PRESET) -> tuple[jax.Array, ...]:
    """``(m, n, b)`` each ``[nets, N]`` (float32) of ``make_preset(preset, key=k)`` per key."""
    nets = [make_preset(preset, key=k) for k in keys]
    m = jnp.stack([jnp.asarray(net.m[:, 0], jnp.float32) for net in nets])
    n = jnp.stack([jnp.asarray(net.nT[:, 0], jnp.float32) for net in nets])
    b = jnp.stack([jnp.asarray(net.b, jnp.float32) for net in nets])
    return m, n, b


def as_network(m, n, b, *, template: RateRNN) -> RateRNN:
    """``template`` (a rank-one preset network) with ``m, n, b`` ([N] each) replaced."""
    new = (jnp.asarray(m)[:, None], jnp.asarray(n)[:, None], jnp.asarray(b))
    return eqx.tree_at(lambda net: (net.m, net.nT, net.b), template, new)


def train_checkpointed(
    params, lr, epochs: int, checkpoints, *, chunk: int = 2000, preset: str = PRESET,
    delay: int = 20,
):  # fmt: skip
    """SGD on DA (T = ``delay`` + ``delay``, default 20 + 20) of the rank-one networks ``params = (m, n, b)`` (``[nets, N]``)
    through the training engine (`ghostmech.training.engine.drive`, the rank-one kernel),
    the parameters saved at each epoch of ``checkpoints`` (and 0, ``epochs``).

    Returns ``(saved, metrics)``: ``saved[e] = (m, n, b)`` (numpy ``[nets, N]``) after e
    updates; ``metrics``: ``loss``, ``grad_norm`` ``[nets, epochs]`` and ``status`` ``[nets]``
    (1: diverged). The other settings (β, κ_θ, α, r₀) are those of ``preset``.
    """
    m, n, b = (jnp.asarray(a, jnp.float32) for a in params)
    g = m.shape[0]
    template = make_preset(preset, n=m.shape[1], key=jax.random.key(0))
    nets = stack([as_network(m[i], n[i], b[i], template=template) for i in range(g)])
    lrs = jnp.broadcast_to(jnp.asarray(lr, jnp.float32), (g,))
    init = eqx.filter_vmap(lambda net, lr, key: init_state(net, optimizer="sgd", lr=lr, key=key))
    states = init(nets, lrs, jax.random.split(jax.random.key(0), g))
    task = DelayedActivation(delay, delay)
    marks = sorted({0, *(int(c) for c in checkpoints if 0 <= c <= epochs), epochs})
    schedule = make_schedule(epochs, chunk=chunk, checkpoints=marks)
    sink = MemorySink()
    states = drive(states, KernelExecutor(task, task.all_trials(), schedule.chunk), schedule, sink)
    saved = {
        e: (np.asarray(net.m[..., 0]), np.asarray(net.nT[..., 0]), np.asarray(net.b))
        for e, net in sink.saved.items()
    }
    metrics = {k: v for k, v in sink.metrics().items() if k in ("loss", "grad_norm")}
    return saved, metrics | {"status": np.asarray(states.status)}


def _flow_grid(m, n, b, grid: np.ndarray) -> np.ndarray:
    """F(κ) = −κ + nᵀ tanh(m κ + b) on ``grid`` (float64 numpy)."""
    m, n, b = (np.asarray(a, np.float64) for a in (m, n, b))
    return -grid + np.tanh(grid[:, None] * m[None, :] + b[None, :]) @ n


def count_fixed_points(m, n, b, *, n_grid: int = 4001) -> int:
    """Number of sign changes of F on [−‖n‖₁−1, ‖n‖₁+1] (every fixed point lies inside)."""
    r = float(np.abs(np.asarray(n)).sum()) + 1.0
    s = np.sign(_flow_grid(m, n, b, np.linspace(-r, r, n_grid)))
    return int(np.count_nonzero(s[:-1] * s[1:] < 0) + np.count_nonzero(s[1:-1] == 0))


def latent_flow_1d(m, n, b, *, template: RateRNN, n_grid: int = 1201) -> Flow1D:
    """:func:`flow_1d` of the network's latent flow on [−‖n‖₁−1, ‖n‖₁+1]."""
    net = as_network(m, n, b, template=template)
    r = float(np.abs(np.asarray(n)).sum()) + 1.0
    return flow_1d(scalar_flow(latent_flow(net)), -r, r, n_grid=n_grid)


def draw_flows(axes, flows) -> None:
    """Panels of ``(epoch, Flow1D)`` on shared κ limits that show every point found."""
    ks = [p.kappa for _, f in flows for p in f.points]
    lo, hi = min([-2.5, *ks]) - 0.5, max([2.5, *ks]) + 0.5
    for ax, (e, fl) in zip(axes, flows, strict=True):
        plot_flow_1d(fl, ax=ax, title=f"epoch {e:,}")
        ax.set_xlim(lo, hi)
        ax.set_ylim(-1.0, 1.0)


def mechanism(m, n, b, *, template: RateRNN, task) -> tuple[str, dict]:
    """How the DA trajectory of the network (m, n, b) makes its delay (theory §4):
    ``ghost`` | ``shallow`` | ``no_minimum``, and the numbers of the passage judged
    (that of the ghost, else of the first shallow candidate; {} for no_minimum)."""
    net = as_network(m, n, b, template=template)
    f = from_network(net, latent=True)  # a Module: the searches compile once
    r = float(np.abs(np.asarray(n)).sum()) + 1.0
    cands = [[p.kappa] for p in flow_1d(scalar_flow(f), -r, r, n_grid=1201).points
             if p.kind == "ghost"]  # fmt: skip
    traj = task_trajectories(net, task, True)
    judged = [bn for _, bn in judge_candidates(f, traj, task_span(net, task), cands, net.alpha)]
    on_path = [bn for bn in judged if bn.kind != "off_path"]
    if not on_path:
        return "no_minimum", {}
    best = next((bn for bn in on_path if bn.kind == "ghost"), on_path[0])
    return best.kind, best.to_dict()


_REPORT = ("eps", "curvature", "contrast", "share", "passage_full", "measured_delay",
           "measured_in_bottleneck", "predicted_in_bottleneck", "measured_to_threshold",
           "predicted_to_threshold")  # fmt: skip


MAX_JUDGED = 101  # checkpoints judged (evenly spread, + the first 10 after the drop)


def _mechanisms(saved, ckpts, template, task, drop: int) -> dict[int, tuple[str, dict]]:
    """`mechanism` at ≤ ``MAX_JUDGED`` spread checkpoints, the 10 after the drop and the last."""
    k = max(len(ckpts) // (MAX_JUDGED - 1), 1)
    after = [c for c in ckpts if c > drop][:10] if drop >= 0 else []
    pick = sorted({*ckpts[::k], *after, ckpts[-1]})
    return {e: mechanism(*(a[0] for a in saved[e]), template=template, task=task) for e in pick}


def _bottleneck_claim(mech: dict, drop: int, quick: bool) -> list[Claim]:
    """Full size: the final flow's minimum is a bottleneck of the trajectory; when it
    formed, the kind right after the drop, and the curvature c through training."""
    eps = sorted(mech)
    after = min((e for e in eps if e > drop), default=eps[-1]) if drop >= 0 else eps[-1]
    first = next((e for e in eps if e >= after and mech[e][0] == "ghost"), -1)
    stays = [e for i, e in enumerate(eps) if all(mech[x][0] == "ghost" for x in eps[i:])]
    curv = [(e, mech[e][1]["curvature"]) for e in eps if mech[e][1]]
    kind, last = mech[eps[-1]]
    measured = {
        "kind_after_drop": mech[after][0],
        "kind_at_end": kind,
        "first_bottleneck_epoch": first,
        "bottleneck_to_end_from": stays[0] if stays else -1,
        "curvature_after_drop": mech[after][1].get("curvature", float("nan")),
        "curvature_max": max((c for _, c in curv), default=float("nan")),
        "curvature_max_epoch": max(curv, key=lambda ec: ec[1])[0] if curv else -1,
        **{f"end_{k}": last.get(k, float("nan")) for k in _REPORT},
    }
    return [
        Claim(
            "ghost_sets_the_delay",
            "slow latent dynamics near the ghost set the delay: the final DA trajectory passes "
            "the ghost as a bottleneck (measured, docs/theory.md §4)",
            measured,
            "not-run" if quick else verdict_of(kind == "ghost"),
            "judged at full size only: ghost = contrast ≥ 2 and ≥ 1/2 of the steps to the "
            "readout crossing where the speed is ≤ 2 × its minimum (theory §4)",
        )
    ]


def _n_fixed(flow: Flow1D) -> int:
    return sum(k in ("stable", "unstable", "marginal") for k in flow.kinds())


def _checkpoints(size: Sizes) -> list[int]:
    extra = (e - 1 for e in (size.panel_epochs or ()))  # checkpoint e-1 = network AT epoch e
    return sorted({*size.checkpoints, *extra, size.epochs})


def _drop(loss: np.ndarray, window: int) -> tuple[int, float]:
    """Epoch of the first abrupt drop (detect.jumps) and its size over ``window`` epochs."""
    found = jumps(loss, window=window, drop_tol=DROP_MIN)
    if found.size == 0:
        return -1, 0.0
    e = int(found[0])
    lo, hi = max(e - window, 0), min(e + window, loss.size - 1)
    return e, float(loss[lo] - loss[hi])


def _claims(loss, grad, counts, flows, window, mech, quick: bool) -> list[Claim]:
    e, size = _drop(loss, window)
    kind, last = mech[max(mech)]
    need_ghost = not quick  # quick networks stop at the ramp stage: kind reported only
    abrupt = Claim(
        "abrupt_drop_with_ghost",
        "the loss drops abruptly and the trained latent flow has a ghost the trajectory passes"
        + (" (quick: the kind is reported, not judged)" if quick else ""),
        {
            "drop_epoch": e,
            "drop_size": size,
            "window": window,
            "final_loss": float(loss[-1]),
            "final_kind": kind,
            "ghost_eps": last.get("eps", float("nan")),
            "contrast": last.get("contrast", float("nan")),
            "share": last.get("share", float("nan")),
        },
        verdict_all(
            [
                verdict_of(e >= 0 and size >= DROP_MIN * loss[0]),
                verdict_of(loss[-1] <= FINAL_LOSS_MAX * loss[0]),
                verdict_of(kind == "ghost" or not need_ghost),
            ]
        ),
        f"drop ≥ {DROP_MIN}·L₀ within ±window; final L ≤ {FINAL_LOSS_MAX}·L₀; "
        + (
            "final kind reported (ghost | shallow | no_minimum)"
            if quick
            else "final kind = ghost (contrast ≥ 2, share ≥ 1/2; theory §4)"
        ),
    )
    flow_counts = [_n_fixed(f) for _, f in flows]
    grid_at = [counts[ep] for ep, _ in flows]
    one = Claim(
        "one_fixed_point_throughout",
        "exactly one fixed point at every checkpoint (no bifurcation)",
        {
            "checkpoints": len(counts),
            "min_count": min(counts.values()),
            "max_count": max(counts.values()),
            "flow_1d_counts": str(flow_counts),
        },
        verdict_of(set(counts.values()) == {1} and flow_counts == grid_at),
        "sign changes of F on a 4001-point grid = 1 at all checkpoints; flow_1d agrees",
    )
    pre = grad[: max(e // 2, 1)] if e > 0 else grad
    near = grad[max(e - window, 0) : e + window] if e >= 0 else grad
    ratio = float(near.max() / np.median(pre))
    jump = Claim(
        "grad_norm_jumps_at_drop",
        "the gradient norm jumps up at the loss drop",
        {
            "grad_near_drop": float(near.max()),
            "grad_plateau_median": float(np.median(pre)),
            "ratio": ratio,
        },
        verdict_of(e >= 0 and ratio >= GRAD_JUMP_MIN),
        f"max |∇L| within ±window of the drop ≥ {GRAD_JUMP_MIN:g} × median over the plateau",
    )
    return [abrupt, one, jump, *_bottleneck_claim(mech, e, quick)]


def _panel_epochs(size: Sizes, drop: int, ckpts: list[int]) -> list[int]:
    """Checkpoints shown as panels: the network after e−1 updates for paper epoch e."""
    if size.panel_epochs is not None:
        return [e - 1 for e in size.panel_epochs]
    after = min((c for c in ckpts if c > drop), default=ckpts[-1]) if drop >= 0 else ckpts[-1]
    return [0, after, ckpts[-1]]


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Train one rank-one network on DA, measure the claims, draw panels and the video."""
    size = sizes(quick)
    template = make_preset(size.preset, key=key)
    params = rank1_init(key[None], size.preset)
    ckpts = _checkpoints(size)
    saved, met = train_checkpointed(params, size.lr, size.epochs, ckpts, chunk=size.chunk,
                                    preset=size.preset, delay=size.delay)  # fmt: skip
    loss, grad = met["loss"][0], met["grad_norm"][0]
    counts = {e: count_fixed_points(*(a[0] for a in saved[e])) for e in ckpts}
    window = max(size.epochs // 100, 10)
    drop, _ = _drop(loss, window)
    shown = _panel_epochs(size, drop, ckpts)
    flows = [(e, latent_flow_1d(*(a[0] for a in saved[e]), template=template)) for e in shown]
    task = settings.task_of(settings.shipped(CONFIG, quick=quick))
    mech = _mechanisms(saved, ckpts, template, task, drop)
    claims = _claims(loss, grad, counts, flows, window, mech, quick)

    fig, axes = new_figure(1, 5)
    epochs = np.arange(size.epochs)
    plot_curves(epochs, {"loss": loss}, ax=axes[0], ylabel="loss L")
    plot_curves(epochs, {"|∇L|": grad}, ax=axes[1], ylabel="gradient norm", marks=[drop])
    draw_flows(axes[2:], [(e + 1, fl) for e, fl in flows])
    for ax, letter in zip(axes, "ABCDE", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "fig3a")
    frame_at = [ckpts[int(i)] for i in np.linspace(0, len(ckpts) - 1, size.n_frames)]
    frames = [(e, latent_flow_1d(*(a[0] for a in saved[e]), template=template)) for e in frame_at]
    frames = sorted(frames or flows, key=lambda ef: ef[0])
    k = epochs.size // 2000 + 1
    video = training_video(frames, Path(out) / "fig3a_training", loss=(epochs[::k], loss[::k]))
    files.append(video)
    return FigureResult("fig3a", claims, files, quick=quick)
