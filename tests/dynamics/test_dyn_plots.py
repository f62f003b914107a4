"""Plot functions return Figures; the GIF writer writes a valid multi-frame GIF."""

from __future__ import annotations

import dyn_zoo as zoo
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from ghostmech.dynamics import find_points, flow_1d, flow_2d, track
from ghostmech.plotting.dynamics import (
    plot_flow_1d,
    plot_pca,
    plot_phase_portrait,
    plot_timeline,
)
from ghostmech.plotting.video import training_video, write_video


def test_dyn_plot_functions_return_figures(tmp_path):
    fl1 = flow_1d(zoo.Canonical(-0.04), -1.0, 1.0, n_grid=51)
    fl2 = flow_2d(zoo.SNIC(1.002), (-1.5, 1.5), (-1.5, 1.5), n_grid=31)  # shapes as in flows
    traj = np.stack([np.c_[np.cos(t), np.sin(t)] for t in np.linspace(0, 6, 20)[None]])
    Q = zoo.orthogonal(5, seed=1)
    starts = np.random.default_rng(0).normal(size=(12, 5))
    pts = find_points(zoo.PlantedGhost(Q, 1e-3, 0.5), starts)
    tr = track([(0, zoo.Canonical(0.01)), (1, zoo.Canonical(-0.01))], np.c_[[-1.0, 1.0]])
    figs = [
        plot_flow_1d(fl1),
        plot_phase_portrait(fl2, trajectories=traj),
        plot_pca(pts, trajectories=np.random.default_rng(1).normal(size=(3, 10, 5))),
        plot_pca(pts),
        plot_timeline(tr),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert len(figs[1].axes[0].collections) > 0  # heat map, streamlines, nullclines drawn


def test_dyn_gif_writer_multi_frame(tmp_path):
    flows = [
        (e, flow_1d(zoo.Canonical(p), -1.0, 1.0, n_grid=51))
        for e, p in enumerate([0.02, 0.0, -0.02])
    ]
    path = training_video(flows, tmp_path / "flow", loss=([0, 1, 2], [1.0, 0.5, 0.1]))
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 3
    frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 128, 255)]
    with Image.open(write_video(frames, tmp_path / "plain.gif")) as im:
        assert im.n_frames == 3
