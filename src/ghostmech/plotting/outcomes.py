"""The figures that answer a learning-rate sweep's question: how often does a network learn,
and how often is it trapped, at each learning rate?

Both take a :class:`ghostmech.runs.outcomes.GridOutcomes` (outcome and final loss of every
network, ``[lr, network]``) and return a report-sized Figure (`report_figure`).

>>> import numpy as np
>>> from ghostmech.runs.outcomes import GridOutcomes
>>> o = GridOutcomes(np.array([0.01, 0.1]), ["seed=0", "seed=1"], np.array([[0.02, 0.03], [1.0, 1.0]]),
...                  np.array([["learned", "learned"], ["trapped", "trapped"]]))
>>> len(plot_outcomes(o).axes), len(plot_final_loss(o).axes)
(2, 2)
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ghostmech.plotting.style import COLORS, log_range, report_figure, report_style

__all__ = ["plot_outcomes", "plot_final_loss", "OUTCOME_COLORS"]

OUTCOME_COLORS = {
    "learned": COLORS[2],
    "trapped": COLORS[1],
    "plateau": COLORS[0],
    "diverged": COLORS[6],
}
_LETTER = {"learned": "L", "trapped": "T", "plateau": "P", "diverged": "D"}


def plot_outcomes(outcomes, eta_c: float = math.nan) -> Figure:
    """Left: fraction learned and trapped against lr, 95 % Wilson intervals as error bars,
    ``eta_c`` as a dashed line. Right: the final loss of every network (the seed spread),
    coloured by outcome, with the median per lr. One legend under both panels."""
    with report_style():
        fig, (ax, bx) = report_figure(1, 2, row_height=3.6)
        lrs = outcomes.lrs
        for name, shift in (("learned", 0.985), ("trapped", 1.015)):
            frac, lo, hi = outcomes.fraction(name)
            ax.errorbar(lrs * shift, frac, yerr=np.clip([frac - lo, hi - frac], 0.0, None), fmt="o-", ms=4,
                        capsize=3, color=OUTCOME_COLORS[name], label=f"{name} (95 % Wilson)")  # fmt: skip
        if np.isfinite(eta_c):
            for a in (ax, bx):
                a.axvline(eta_c, color="0.3", ls="--", lw=1.0, label=f"η_c ≈ {eta_c:.3g}")
        ax.set(xscale="log", ylim=(-0.05, 1.05), xlabel="learning rate", ylabel="fraction of networks",
               title=f"{outcomes.n} networks per learning rate")  # fmt: skip
        final = np.where(np.isfinite(outcomes.final), outcomes.final, np.nan)
        for name, color in OUTCOME_COLORS.items():
            i, j = np.nonzero(outcomes.status == name)
            if i.size:
                bx.plot(lrs[i], final[i, j], "o", ms=4, alpha=0.6, color=color, label=name)
        with np.errstate(all="ignore"):
            bx.plot(lrs, np.nanmedian(np.where(final > 0, final, np.nan), axis=1), "-",
                    color="0.4", lw=1.0, label="median")  # fmt: skip
        bx.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final loss",
               title="final loss of each network")  # fmt: skip
        limits = log_range(final)
        if limits is not None:
            bx.set_ylim(*limits)
        handles, labels = [], []
        for a in (ax, bx):
            for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    return fig


def plot_final_loss(outcomes, *, max_letters: int = 600) -> Figure:
    """Final loss as a heatmap over learning rate (columns) × network (rows), log colour
    scale spanning at least two decades (`log_range`); each cell also carries its outcome's letter (L, T, P, D) when the grid is small."""
    final = np.where(np.isfinite(outcomes.final) & (outcomes.final > 0), outcomes.final, np.nan)
    n_lr, n = final.shape
    with report_style():
        fig, (ax,) = report_figure(1, 1, row_height=min(2.2 + 0.25 * n, 8.0))
        limits = log_range(final)
        norm = LogNorm(*limits) if limits is not None else None
        mesh = ax.pcolormesh(np.arange(n_lr + 1), np.arange(n + 1), final.T, norm=norm,
                             cmap="viridis", shading="flat")  # fmt: skip
        fig.colorbar(mesh, ax=ax, label="final loss (log scale)")
        step = max(1, n_lr // 12)
        ax.set_xticks(np.arange(0, n_lr, step) + 0.5, [f"{v:.3g}" for v in outcomes.lrs[::step]])
        ystep = max(1, n // 20)
        ax.set_yticks(np.arange(0, n, ystep) + 0.5, outcomes.labels[::ystep])
        ax.set(xlabel="learning rate", title="final loss per network; letters: L learned, "
               "T trapped, P plateau, D diverged")  # fmt: skip
        if n_lr * n <= max_letters:
            for i in range(n_lr):
                for j in range(n):
                    light = (
                        norm is not None and np.isfinite(final[i, j]) and norm(final[i, j]) > 0.6
                    )
                    ax.text(i + 0.5, j + 0.5, _LETTER.get(outcomes.status[i, j], "?"), ha="center",
                            va="center", fontsize=9, color="black" if light else "white")  # fmt: skip
    return fig
