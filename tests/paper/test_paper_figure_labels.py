"""What the figures say about themselves: titles from the sizes that ran, legends that list
exactly what is drawn, whole-number count ticks, panels in epoch order (no training here)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ghostmech.paper import fig4a, fig5a, fig6a, fig8c
from ghostmech.plotting.style import new_figure


def test_fig6a_title_states_the_delay_that_ran():
    assert "T = 10 (paper: T = 20)" in fig6a.title(fig6a.sizes(True))
    assert "T = 20 (paper sizes)" in fig6a.title(fig6a.sizes(False))
    assert f"{fig6a.sizes(True).n_seeds} seeds" in fig6a.title(fig6a.sizes(True))


def _points(xy, kinds):
    return SimpleNamespace(xstar=np.asarray(xy, float), kind=np.asarray(kinds))


def _legend_labels(ghost_at):
    fig, axes = new_figure(1, 2)
    for ax in axes:
        ax.set(xlim=(-1, 1), ylim=(-1, 1))
        ax.plot([0], [0], "o", label="stale per-panel entry")
        ax.legend()
    pts = [
        _points([[0.0, 0.0], ghost_at], ["stable_node", "ghost"]),
        _points([[0.5, 0.5]], ["saddle"]),
    ]
    fig4a.portrait_legend(fig, axes, pts)
    assert all(ax.get_legend() is None for ax in axes)
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_fig4a_legend_lists_only_points_inside_the_panels_and_the_lines():
    labels = _legend_labels(ghost_at=[5.0, 0.0])  # the ghost lies outside the portrait
    assert "ghost" not in labels
    assert {"stable node", "saddle", "trial trajectories"} <= set(labels)
    assert sum("nullcline" in t for t in labels) == 2
    assert "ghost" in _legend_labels(ghost_at=[0.2, -0.3])  # negative control: drawn -> listed


def test_fig5a_panels_follow_training_order():
    assert fig5a.panel_epochs([0, 100, 200, 300], [270, 290]) == [0, 100, 200, 270, 300]
    assert fig5a.panel_epochs([0, 100, 200, 300], []) == [0, 100, 200, 300, 300]


def test_fig8c_phase_one_is_drawn_once_and_every_colour_is_in_the_legend():
    rng = np.random.default_rng(0)
    epochs, seeds = 50, 3
    phase1 = rng.uniform(0.5, 1.0, (seeds, 1, epochs)).repeat(5, axis=1)  # identical per c
    loss = np.concatenate([phase1, rng.uniform(0.1, 1.0, (seeds, 5, epochs))], axis=2)
    fig, (ax,) = new_figure(1, 1)
    fig8c._draw_phases(ax, loss, epochs, {"c free": -1, "c = 0.5": 1})
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 3 * seeds  # phase 1 once per seed, phase 2 per shown condition
    assert all(ln.get_alpha() in (None, 1.0) for ln in lines)  # opaque: no blended colours
    legend = {t.get_text(): h.get_color() for t, h in zip(ax.get_legend().get_texts(),
                                                          ax.get_legend().legend_handles, strict=True)}  # fmt: skip
    assert {ln.get_color() for ln in lines} == set(legend.values())
