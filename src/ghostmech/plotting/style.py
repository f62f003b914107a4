"""Shared figure style: object-oriented matplotlib on the Agg canvas, PNG + PDF output.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot,
no global state, no ``show``), so plotting works headless and in threads.

Example::

    >>> fig, axes = new_figure(1, 2)
    >>> len(axes)
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "new_figure",
    "report_figure",
    "save_figure",
    "COLORS",
    "PANEL_SIZE",
    "REPORT_DPI",
    "REPORT_WIDTH_IN",
    "REPORT_TICK_PX",
    "report_style",
    "log_range",
    "MIN_DECADES",
]

PANEL_SIZE: tuple[float, float] = (3.6, 2.9)
COLORS: tuple[str, ...] = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
)
_RC = {
    "font.size": 8.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "legend.fontsize": 7.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def new_figure(nrows: int = 1, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of ``nrows x ncols`` panels on an Agg canvas, and its axes (row-major)."""
    import matplotlib as mpl

    with mpl.rc_context(_RC):
        fig = Figure(figsize=(PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


# Figures of the HTML report: 10 in at 100 dpi = 1000 px wide, shown at natural size
# (the page is 1100 px wide), tick labels 9 pt = 12.5 px (the report test asks >= 10 px).
REPORT_DPI = 100
REPORT_WIDTH_IN = 10.0
_REPORT_RC = {
    **_RC,
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 10.0,
    "legend.fontsize": 9.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
}
REPORT_TICK_PX = _REPORT_RC["xtick.labelsize"] * REPORT_DPI / 72


MIN_DECADES = 2.0  # log axes of losses span at least this many decades (see `log_range`)


def log_range(values, decades: float = MIN_DECADES) -> tuple[float, float] | None:
    """``(lo, hi)`` of a log axis for the positive finite ``values``, spanning at least
    ``decades`` decades below the top: a loss moving from 0.9999 to 0.9998 then looks flat
    instead of filling the axis the way autoscaling zooms onto it. ``None`` if no value is
    positive and finite.

    >>> log_range([0.9998, 0.9999])
    (0.0129987, 1.29987)
    """
    import numpy as np

    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return None
    hi = float(v.max()) * 1.3
    return float(min(v.min() / 1.3, hi / 10**decades)), hi


def report_style():
    """Context manager: draw (titles, labels, legends) in the report's font sizes."""
    import matplotlib as mpl

    return mpl.rc_context(_REPORT_RC)


def report_figure(
    nrows: int = 1, ncols: int = 1, *, row_height: float = 3.2, sharey: bool = False
) -> tuple[Figure, list[Axes]]:
    """A figure for the HTML report: ``REPORT_WIDTH_IN`` wide whatever ``ncols``, larger fonts
    (save it at ``REPORT_DPI``); ``sharey`` shares the y-axis between all panels."""
    import matplotlib as mpl

    with mpl.rc_context(_REPORT_RC):
        fig = Figure(figsize=(REPORT_WIDTH_IN, row_height * nrows), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey="all" if sharey else "none")
    return fig, [ax for row in axes for ax in row]


def save_figure(
    fig: Figure, stem: Path, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (parents created); return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        path = stem.with_suffix(f".{ext}")
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def label_panel(ax: Axes, letter: str) -> None:
    """Write a bold panel letter in the top-left corner of ``ax``."""
    ax.text(-0.15, 1.05, letter, transform=ax.transAxes, fontweight="bold", va="bottom")
