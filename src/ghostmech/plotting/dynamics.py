"""Figures of flows and their points: 1-D dκ/dt, 2-D phase portraits, PCA views.

Each function takes the result objects of :mod:`ghostmech.dynamics` and returns
a :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state). Points are
drawn by kind: stable filled circles, unstable/saddles open circles, marginal
squares, ghost candidates (speed minima with F·F″ > 0; whether the task passes them
as a bottleneck is judged by :func:`ghostmech.dynamics.bottleneck`) stars, other slow
points crosses.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ghostmech.plotting.style import COLORS, new_figure

__all__ = ["KIND_STYLE", "plot_flow_1d", "plot_phase_portrait", "plot_pca", "plot_timeline"]

KIND_STYLE: dict[str, dict] = {
    "stable": dict(marker="o", color="k", mfc="k"),
    "stable_node": dict(marker="o", color="k", mfc="k"),
    "stable_focus": dict(marker="o", color="k", mfc="k"),
    "unstable": dict(marker="o", color="k", mfc="w"),
    "saddle": dict(marker="o", color=COLORS[0], mfc="w"),
    "marginal": dict(marker="s", color=COLORS[2], mfc=COLORS[2]),
    "flip": dict(marker="D", color=COLORS[2], mfc="w"),
    "ghost": dict(marker="*", color=COLORS[1], mfc=COLORS[1]),
    "slow": dict(marker="x", color=COLORS[3], mfc=COLORS[3]),
    "q_saddle": dict(marker="+", color="0.5", mfc="0.5"),
}


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(1, 1)
    return fig, axes[0]


def _mark(ax: Axes, x, y, kind: str, labelled: set) -> None:
    style = KIND_STYLE.get(kind)
    if style is None:
        return
    label = None if kind in labelled else kind
    labelled.add(kind)
    ax.plot([x], [y], ls="none", ms=7, zorder=5, label=label, **style)


def plot_flow_1d(flow, ax: Axes | None = None, *, title: str | None = None) -> Figure:
    """dκ/dt = F(κ) against κ with the fixed points and ghosts of a ``Flow1D``."""
    fig, ax = _axes(ax)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.plot(flow.kappa, flow.F, color=COLORS[0], lw=1.5)
    labelled: set = set()
    for p in flow.points:
        _mark(ax, p.kappa, p.F, p.kind, labelled)
    ax.set(xlabel="κ", ylabel="dκ/dt", title=title)
    if labelled:
        ax.legend(loc="best", frameon=False)
    return fig


def plot_phase_portrait(
    flow, trajectories=None, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """Speed heat map (log₁₀ q), streamlines, nullclines, points; trajectories [trials, time, 2]."""
    fig, ax = _axes(ax)
    with np.errstate(divide="ignore"):
        logq = np.log10(np.maximum(flow.speed, 1e-300))
    mesh = ax.pcolormesh(flow.x, flow.y, logq, cmap="Greys", shading="auto", alpha=0.6)
    fig.colorbar(mesh, ax=ax, label="log₁₀ q")
    ax.streamplot(flow.x, flow.y, flow.U, flow.V, color="0.35", density=0.8, linewidth=0.6)
    ax.contour(flow.x, flow.y, flow.U, levels=[0.0], colors=[COLORS[4]], linewidths=1.0)
    ax.contour(flow.x, flow.y, flow.V, levels=[0.0], colors=[COLORS[5]], linewidths=1.0)
    if trajectories is not None:
        for tr in np.asarray(trajectories):
            ax.plot(tr[:, 0], tr[:, 1], color=COLORS[2], lw=1.0, alpha=0.8)
    labelled: set = set()
    pts = flow.points
    for i in range(len(pts)):
        _mark(ax, pts.xstar[i, 0], pts.xstar[i, 1], str(pts.kind[i]), labelled)
    ax.set(
        xlabel="κ₁",
        ylabel="κ₂",
        title=title,
        xlim=(flow.x[0], flow.x[-1]),
        ylim=(flow.y[0], flow.y[-1]),
    )
    if labelled:
        ax.legend(loc="upper right", frameon=False)
    return fig


def plot_pca(
    points, trajectories=None, ax: Axes | None = None, *, title: str | None = None
) -> Figure:
    """Points (and trajectories [trials, time, n]) on the first two principal components
    of the trajectories (of the points when no trajectories are given)."""
    fig, ax = _axes(ax)
    ok = np.all(np.isfinite(points.xstar), axis=1)
    data = (
        np.asarray(trajectories).reshape(-1, points.xstar.shape[1])
        if trajectories is not None
        else points.xstar[ok]
    )
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    pcs = vt[:2] if vt.shape[0] >= 2 else np.vstack([vt, np.zeros_like(vt)])
    if trajectories is not None:
        for tr in np.asarray(trajectories):
            z = (tr - mean) @ pcs.T
            ax.plot(z[:, 0], z[:, 1], color=COLORS[2], lw=0.8, alpha=0.7)
    labelled: set = set()
    for i in np.flatnonzero(ok):
        z = (points.xstar[i] - mean) @ pcs.T
        _mark(ax, z[0], z[1], str(points.kind[i]), labelled)
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    if labelled:
        ax.legend(loc="best", frameon=False)
    return fig


def plot_timeline(tracking, ax: Axes | None = None, *, title: str | None = None) -> Figure:
    """Number of fixed points and ghost candidates per checkpoint, events as vertical lines."""
    fig, ax = _axes(ax)
    ep = np.asarray(tracking.epochs)
    ax.step(ep, [p.count("fixed") for p in tracking.points], where="post", label="fixed points")
    ax.step(ep, [p.count("ghost") for p in tracking.points], where="post", label="ghost candidates")
    for e in tracking.events:
        ax.axvline(e.epoch, color="0.7", lw=0.6, ls="--")
    ax.set(xlabel="epoch", ylabel="count", title=title)
    ax.legend(loc="best", frameon=False)
    return fig
