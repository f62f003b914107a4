"""Plotting: functions that take result objects and return matplotlib Figures.

Nothing here calls ``pyplot.show``; figures live on an Agg canvas and are
saved with :func:`save_figure` (PNG and PDF). Only ``paper`` and ``cli``
import this package.
"""

from ghostmech.plotting.style import COLORS, new_figure, save_figure

__all__ = ["COLORS", "new_figure", "save_figure"]
