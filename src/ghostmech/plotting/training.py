"""Training figures: learning curves, and fractions of a grid against a swept value.

Each function draws on the axes it is given (or a new one-panel figure) and
returns the :class:`~matplotlib.figure.Figure`.

>>> import numpy as np
>>> fig = plot_curves(np.arange(3), {"loss": np.array([1.0, 0.5, 0.1])})
>>> len(fig.axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ghostmech.plotting.style import (
    COLORS,
    log_range,
    new_figure,
    report_figure,
    report_style,
)

__all__ = ["plot_curves", "plot_curve_panels", "plot_fraction", "plot_band"]


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(1, 1)
    return fig, axes[0]


MAX_POINTS = 3000  # longer curves are drawn at every k-th epoch (k = len // MAX_POINTS + 1)


def plot_curves(
    epochs,
    curves: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    *,
    ylabel: str = "loss",
    log: bool = True,
    marks: Sequence[int] = (),
    title: str | None = None,
) -> Figure:
    """One line per curve (``[epochs]``, or ``[runs, epochs]`` drawn thin); ``marks``: dashed
    vertical lines (negative epochs are skipped)."""
    fig, ax = _axes(ax)
    x = np.asarray(epochs)
    k = x.size // MAX_POINTS + 1
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, float)[..., ::k]
        color = COLORS[i % len(COLORS)]
        if y.ndim == 1:
            ax.plot(x[::k], y, color=color, lw=1.0, label=label)
        else:
            for j, row in enumerate(y):
                ax.plot(
                    x[::k], row, color=color, lw=0.5, alpha=0.5, label=label if j == 0 else None
                )
    for e in marks:
        if e >= 0:
            ax.axvline(x[min(e, x.size - 1)], color="0.6", lw=0.8, ls="--")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend(loc="best", frameon=False)
    return fig


def plot_fraction(
    values,
    fractions: Mapping[str, np.ndarray],
    ax: Axes | None = None,
    *,
    xlabel: str = "learning rate",
    ylabel: str = "fraction learned",
    marks: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Fraction (of seeds) against a log-scaled swept value, one line per label;
    ``marks``: label → value drawn as a dashed vertical line (e.g. a critical lr)."""
    fig, ax = _axes(ax)
    for i, (label, frac) in enumerate(fractions.items()):
        ax.plot(
            values if np.ndim(values) == 1 else values[label],
            frac,
            "o-",
            ms=3,
            color=COLORS[i % len(COLORS)],
            label=label,
        )
    for i, (label, v) in enumerate((marks or {}).items()):
        if np.isfinite(v):
            ax.axvline(v, color=COLORS[i % len(COLORS)], lw=0.8, ls="--", label=label)
    ax.set(xscale="log", xlabel=xlabel, ylabel=ylabel, ylim=(-0.05, 1.05), title=title)
    ax.legend(loc="best", frameon=False)
    return fig


def plot_band(
    values,
    mean: Mapping[str, np.ndarray],
    sem: Mapping[str, np.ndarray] | None = None,
    ax: Axes | None = None,
    *,
    xlabel: str = "learning rate",
    ylabel: str = "epochs to learn",
    logy: bool = True,
    title: str | None = None,
) -> Figure:
    """Mean ± s.e.m. against a log-scaled swept value, one line per label."""
    fig, ax = _axes(ax)
    for i, (label, mu) in enumerate(mean.items()):
        c = COLORS[i % len(COLORS)]
        ax.plot(values, mu, "o-", ms=3, color=c, label=label)
        if sem is not None:
            ax.fill_between(values, mu - sem[label], mu + sem[label], color=c, alpha=0.2)
    ax.set(xscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", frameon=False, fontsize=6)
    return fig


def plot_curve_panels(
    epochs, panels: Mapping[str, np.ndarray], *, ncols: int = 4, ylabel: str = "loss"
) -> Figure:
    """One panel per entry of ``panels`` (title → ``[runs, epochs]``, one thin line per run),
    report-sized, every panel on the same log y-axis spanning at least `MIN_DECADES` decades
    (`log_range`):
    a loss that moves from 0.9999 to 0.9998 stays a flat line instead of filling a panel
    that autoscaling would zoom onto it."""
    titles = list(panels)
    cols = max(1, min(ncols, len(titles)))
    rows = (len(titles) + cols - 1) // cols
    with report_style():
        fig, axes = report_figure(rows, cols, row_height=2.6 if cols > 1 else 3.2, sharey=True)
        values = [np.asarray(v, float) for v in panels.values()]
        for ax, title, y in zip(axes, titles, values, strict=False):
            plot_curves(epochs, {ylabel: np.atleast_2d(y)}, ax=ax, ylabel=ylabel, title=title)
        limits = log_range(np.concatenate([v.ravel() for v in values] or [[]]))
        if limits is not None:
            axes[0].set_ylim(*limits)
        for ax in axes[len(titles) :]:
            ax.set_axis_off()
        for i, ax in enumerate(axes[: len(titles)]):
            if i % cols:
                ax.set_ylabel("")
    return fig
