"""Training videos: frames (flow + points + loss up to the epoch) → GIF or MP4.

GIF is written with Pillow; MP4 with ``ffmpeg`` when it is on PATH (otherwise
:func:`write_video` raises a ``RuntimeError`` that says so; use ``.gif``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ghostmech._checks import check_one_of, check_positive
from ghostmech.plotting.dynamics import plot_flow_1d, plot_phase_portrait
from ghostmech.plotting.style import new_figure

__all__ = ["figure_to_array", "write_video", "training_frames", "training_video"]


def figure_to_array(fig: Figure) -> np.ndarray:
    """RGB pixels [height, width, 3] (uint8) of a figure on an Agg canvas."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _as_frames(frames) -> list[np.ndarray]:
    out = [figure_to_array(f) if isinstance(f, Figure) else np.asarray(f, np.uint8) for f in frames]
    if not out:
        raise ValueError("`frames` (=[]) must hold at least one frame")
    h, w = out[0].shape[:2]
    return [f if f.shape[:2] == (h, w) else np.resize(f, (h, w, 3)) for f in out]


def write_video(frames: Sequence, path, *, fps: float = 4.0) -> Path:
    """Write Figures or RGB arrays as ``.gif`` (Pillow) or ``.mp4`` (ffmpeg); return the path."""
    from PIL import Image

    path = Path(path)
    check_one_of("path suffix", path.suffix.lower(), (".gif", ".mp4"))
    fps = check_positive("fps", fps)
    arrays = _as_frames(frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        imgs = [Image.fromarray(a) for a in arrays]
        imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0)
        return path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("writing .mp4 needs `ffmpeg` on PATH; write a .gif instead")
    with tempfile.TemporaryDirectory() as tmp:
        for i, a in enumerate(arrays):
            Image.fromarray(a[: a.shape[0] // 2 * 2, : a.shape[1] // 2 * 2]).save(
                Path(tmp) / f"f{i:05d}.png"
            )
        subprocess.run(
            [
                ffmpeg,
                "-y",
                "-loglevel",
                "error",
                "-framerate",
                str(fps),
                "-i",
                str(Path(tmp) / "f%05d.png"),
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
    return path


def training_frames(flows: Sequence, loss=None) -> list[np.ndarray]:
    """One frame per ``(epoch, flow)`` (Flow1D or Flow2D): the flow and, when ``loss`` =
    (epochs, values) is given, the loss curve up to that epoch."""
    frames = []
    ep_all, val_all = (np.asarray(loss[0]), np.asarray(loss[1])) if loss is not None else (0, 0)
    for epoch, flow in flows:
        fig, axes = new_figure(1, 2 if loss is not None else 1)
        draw = plot_flow_1d if hasattr(flow, "kappa") else plot_phase_portrait
        draw(flow, ax=axes[0], title=f"epoch {epoch}")
        if loss is not None:
            upto = ep_all <= epoch
            axes[1].plot(ep_all[upto], val_all[upto], color="k", lw=1.0)
            axes[1].set(
                xlim=(ep_all.min(), ep_all.max()), yscale="log", xlabel="epoch", ylabel="loss"
            )
        frames.append(figure_to_array(fig))
    return frames


def training_video(flows: Sequence, path, *, loss=None, fps: float = 4.0, fmt: str = "gif"):
    """Frames of :func:`training_frames` written to ``path`` (suffix set by ``fmt``)."""
    fmt = check_one_of("fmt", fmt, ("gif", "mp4"))
    return write_video(training_frames(flows, loss), Path(path).with_suffix("." + fmt), fps=fps)
