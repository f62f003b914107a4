"""Figures of the canonical model ẋ = ε + x² (paper figs. 1, 2 and 8A).

Every function takes arrays or result objects of :mod:`ghostmech.canonical`
(``Descent``: ``eps``, ``loss`` of shape ``[..., epochs + 1]``) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown or saved here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ghostmech.plotting.style import COLORS, label_panel, new_figure

__all__ = [
    "plot_ghost_vs_fixed_points",
    "plot_landscape",
    "plot_descent",
    "plot_lr_sweep",
    "plot_grad_landscape",
]


def plot_ghost_vs_fixed_points(
    eps: float,
    t: np.ndarray,
    trajectories: Mapping[str, np.ndarray],
    eps_list: np.ndarray,
    passage: np.ndarray,
) -> Figure:
    """Fig. 1: flows ẋ = x² ± ε, trajectories x(t), passage time against π/√ε."""
    fig, (ax_f, ax_t, ax_p) = new_figure(1, 3)
    x = np.linspace(-2.0, 2.0, 401)
    root = np.sqrt(eps)
    ax_f.plot(x, x**2 + eps, color=COLORS[0], label=f"ghost: x² + {eps:g}")
    ax_f.plot(x, x**2 - eps, color=COLORS[1], label=f"fixed points: x² − {eps:g}")
    ax_f.axhline(0.0, color="0.5", lw=0.6)
    ax_f.plot([-root], [0.0], "o", color=COLORS[1], label="stable")
    ax_f.plot([root], [0.0], "o", mfc="white", color=COLORS[1], label="unstable")
    ax_f.set(xlabel="x", ylabel="ẋ", title="flow")
    ax_f.legend(frameon=False)
    for color, (label, x_t) in zip(COLORS, trajectories.items(), strict=False):
        ax_t.plot(t, x_t, color=color, label=label)
    ax_t.set(xlabel="t", ylabel="x(t)", ylim=(-3.2, 5.0), title="trajectories")
    ax_t.legend(frameon=False)
    ax_p.loglog(eps_list, passage, "o", color=COLORS[0], label="measured")
    grid = np.geomspace(eps_list.min(), eps_list.max(), 50)
    ax_p.loglog(grid, np.pi / np.sqrt(grid), color="0.3", lw=1, label="π/√ε")
    ax_p.set(xlabel="ε", ylabel="passage time", title="slowing by the ghost")
    ax_p.legend(frameon=False)
    for ax, letter in zip((ax_f, ax_t, ax_p), "ABC", strict=True):
        label_panel(ax, letter)
    return fig


def plot_landscape(
    eps_over_star: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    eps0_over_star: float,
    ax=None,
) -> Figure:
    """Fig. 2A: L/T against ε/ε*, one curve per label; the no-learning zone shaded."""
    fig, axes = new_figure(1, 1) if ax is None else (ax.figure, [ax])
    ax = axes[0]
    ax.axvspan(eps_over_star.min(), eps0_over_star, color="0.9", label="no-learning zone")
    for color, (label, values) in zip(COLORS, curves.items(), strict=False):
        style = dict(color="k", ls="--", zorder=3) if label == "analytic" else dict(color=color)
        ax.plot(eps_over_star, values, label=label, **style)
    ax.axvline(1.0, color="0.5", ls=":", lw=0.8)
    ax.set(xlabel="ε / ε*", ylabel="L / T", title="loss landscape")
    # lower left: inside the shaded zone, below every curve's plateau (no overlap)
    ax.legend(frameon=True, framealpha=0.9, edgecolor="none", loc="lower left", fontsize=7)
    return fig


def plot_descent(
    runs: Mapping[str, object], *, eps_star: float, eps0: float, axes: Sequence = ()
) -> Figure:
    """Fig. 2B–C: ε/ε* and loss against epoch for each labelled ``Descent``."""
    fig, axes = new_figure(1, 2) if not axes else (axes[0].figure, list(axes))
    ax_e, ax_l = axes
    for color, (label, d) in zip(COLORS, runs.items(), strict=False):
        eps = np.asarray(d.eps).reshape(-1)
        ax_e.plot(eps / eps_star, color=color, lw=0.8, label=label)
        ax_l.plot(np.asarray(d.loss).reshape(-1), color=color, lw=0.8, label=label)
    ax_e.axhline(1.0, color="0.5", ls=":", lw=0.8, label="ε*")
    ax_e.axhline(eps0 / eps_star, color="0.5", ls="--", lw=0.8, label="ε₀")
    ax_e.set(xlabel="epoch", ylabel="ε / ε*", yscale="log", title="parameter")
    ax_l.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_e.legend(frameon=False)
    ax_l.legend(frameon=False)
    return fig


def plot_lr_sweep(
    lrs: np.ndarray,
    losses: np.ndarray,
    checkpoints: Sequence[int],
    *,
    eta_theory: float,
    eta_measured: float,
    ax=None,
) -> Figure:
    """Fig. 2D: final loss mean ± s.e.m. over starts against η at each checkpoint.

    ``losses``: ``[n_lr, n_start, epochs + 1]``.
    """
    fig, axes = new_figure(1, 1) if ax is None else (ax.figure, [ax])
    ax = axes[0]
    n = losses.shape[1]
    for color, k in zip(COLORS, checkpoints, strict=False):
        mean = losses[:, :, k].mean(axis=1)
        sem = losses[:, :, k].std(axis=1, ddof=1) / np.sqrt(n) if n > 1 else 0 * mean
        ax.plot(lrs, mean, color=color, lw=1, label=f"{k} epochs")
        ax.fill_between(lrs, mean - sem, mean + sem, color=color, alpha=0.25, lw=0)
    ax.axvline(eta_theory, color="0.2", ls="--", lw=0.8, label=f"η_c (Eq. 23) {eta_theory:.3g}")
    ax.axvline(eta_measured, color=COLORS[1], ls=":", lw=1, label=f"measured {eta_measured:.3g}")
    ax.set(xscale="log", xlabel="learning rate η", ylabel="final loss", title="η sweep")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_grad_landscape(
    eps_over_star: np.ndarray,
    grads: Mapping[str, np.ndarray],
    *,
    eps0_over_star: float,
) -> Figure:
    """Fig. 8A: |∂L/∂ε| normalised by its maximum, log scale, one curve per β."""
    fig, (ax,) = new_figure(1, 1)
    ax.axvspan(eps_over_star.min(), eps0_over_star, color="0.9", label="no-learning zone")
    for color, (label, g) in zip(COLORS, grads.items(), strict=False):
        g = np.abs(np.asarray(g))
        ax.plot(eps_over_star, g / g.max(), color=color, label=label)
    ax.set(yscale="log", xlabel="ε / ε*", ylabel="|∂L/∂ε| / max", title="finite-β gradient")
    ax.legend(frameon=False, loc="lower right", ncols=2, fontsize=6, borderaxespad=0.1)
    return fig


def plot_fraction_trapped(res) -> Figure:
    """Fraction of starts trapped against η (a ``CriticalLR``), with measured and theory η_c."""
    fig, (ax,) = new_figure(1, 1)
    ax.plot(np.asarray(res.lrs), np.asarray(res.fraction_trapped), "o-", color=COLORS[0], ms=3)
    ax.axvline(float(res.theory), color="0.2", ls="--", lw=0.8, label=f"theory {res.theory:.3g}")
    ax.axvline(float(res.measured), color=COLORS[1], ls=":", label=f"measured {res.measured:.3g}")
    ax.set(xscale="log", xlabel="learning rate η", ylabel="fraction trapped", ylim=(-0.05, 1.05))
    ax.legend(frameon=False)
    return fig


def plot_scaling(res) -> Figure:
    """η_c against T on log-log axes (a ``Scaling``), with the fitted exponent."""
    fig, (ax,) = new_figure(1, 1)
    Ts = np.asarray(res.Ts)
    ax.loglog(Ts, res.eta_c, "o", color=COLORS[0], label=f"measured, slope {res.exponent:.2f}")
    ax.loglog(
        Ts, res.eta_c_theory, "-", color="0.3", label=f"Eq. 23, slope {res.theory_exponent:.2f}"
    )
    ax.set(xlabel="T", ylabel="η_c", title="critical learning rate")
    ax.legend(frameon=False)
    return fig
