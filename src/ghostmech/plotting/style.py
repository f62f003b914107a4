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

__all__ = ["new_figure", "save_figure", "COLORS", "PANEL_SIZE"]

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
