"""``ghostmech analyze RUN_DIR``: points, ghosts and events through training, next to the
learning curve (:mod:`ghostmech.runs.analysis`), with figures and a training video.

Writes, per grid point, into ``OUT/<point>/`` (default ``RUN_DIR/analysis``):
``timeline.json``, ``flows.png`` (latent flow / phase portrait / PCA per checkpoint),
``timeline.png`` (loss with events; fixed-point and ghost counts) and
``training.gif`` (+ ``training.mp4`` when ffmpeg is on PATH).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from ghostmech.cli._app import app, console

__all__ = ["analyze", "analyze_run", "point_label"]

MAX_PANELS = 8


def point_label(point: dict) -> str:
    """Folder name of a grid point, e.g. ``lr=0.01_seed=0``."""
    return "_".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items())


def _panel_epochs(epochs: list[int]) -> list[int]:
    idx = np.unique(np.linspace(0, len(epochs) - 1, min(MAX_PANELS, len(epochs))).round())
    return [int(i) for i in idx]


def _draw(a, i: int, ax) -> None:
    from ghostmech.plotting.dynamics import plot_flow_1d, plot_pca, plot_phase_portrait

    e = a.tracking.epochs[i]
    if a.mode == "rank1":
        plot_flow_1d(a.flows[i][1], ax=ax, title=f"epoch {e:,}")
        ks = [p.kappa for _, f in a.flows for p in f.points] + [-2.5, 2.5]
        ax.set_xlim(min(ks) - 0.5, max(ks) + 0.5)
    elif a.mode == "rank2":
        plot_phase_portrait(a.flows[i][1], a.trajectories[i][1], ax=ax, title=f"epoch {e:,}")
    else:
        plot_pca(a.tracking.points[i], a.trajectories[i][1], ax=ax, title=f"epoch {e:,}")


def flows_figure(a):
    """One panel per (at most ``MAX_PANELS``) checkpoint."""
    from ghostmech.plotting.style import new_figure

    idx = _panel_epochs(a.tracking.epochs)
    cols = min(4, len(idx))
    fig, axes = new_figure((len(idx) + cols - 1) // cols, cols)
    for ax, i in zip(axes, idx, strict=False):
        _draw(a, i, ax)
    for ax in axes[len(idx) :]:
        ax.set_axis_off()
    return fig


def timeline_figure(a):
    """Loss with loss jumps (red) and dynamical events (grey); counts of points below."""
    from matplotlib.ticker import MaxNLocator

    from ghostmech.plotting.dynamics import plot_timeline
    from ghostmech.plotting.style import log_range, new_figure

    fig, (top, bottom) = new_figure(2, 1)
    top.plot(np.arange(a.loss.size), a.loss, color="k", lw=1.0)
    top.set(yscale="log", ylabel="loss", title="learning curve and events")
    if (limits := log_range(a.loss)) is not None:  # a plateau at 0.9999 stays flat
        top.set_ylim(*limits)
    for j in a.learning.jumps:
        top.axvline(int(j), color="tab:red", lw=0.8)
    for ev in a.tracking.events:
        top.axvline(ev.epoch, color="0.6", lw=0.8, ls="--")
    plot_timeline(a.tracking, ax=bottom)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    bottom.set_xlim(top.get_xlim())
    return fig


def _video(a, stem: Path) -> list[Path]:
    from ghostmech.plotting.style import new_figure
    from ghostmech.plotting.video import figure_to_array, write_video

    frames = []
    for i, e in enumerate(a.tracking.epochs):
        fig, (left, right) = new_figure(1, 2)
        _draw(a, i, left)
        upto = np.arange(a.loss.size) <= e
        right.plot(np.arange(a.loss.size)[upto], a.loss[upto], color="k", lw=1.0)
        right.set(xlim=(0, max(a.loss.size - 1, 1)), yscale="log", xlabel="epoch", ylabel="loss")
        frames.append(figure_to_array(fig))
    out = [write_video(frames, stem.with_suffix(".gif"), fps=2.0)]
    if shutil.which("ffmpeg"):
        out.append(write_video(frames, stem.with_suffix(".mp4"), fps=2.0))
    return out


def _table(a) -> Table:
    tl = a.timeline()
    events: dict[int, list[str]] = {}
    for ev in tl["timeline"]:
        events.setdefault(ev["epoch"], []).append(ev["kind"])
    t = Table("epoch", "loss", "fixed", "minimum", "ε", "C", "S", "in B (pred)", "π/√ε",
              f"cross (T={a.delay})", "events")  # fmt: skip
    shown = set()
    for row in tl["checkpoints"]:
        c = row["candidates"]
        p = [x.get("passage", {}) for x in c]

        def col(fmt, key, p=p):
            return ", ".join(fmt.format(q[key]) if key in q else "-" for q in p)

        prev = max([e for e in events if e <= row["epoch"] and e not in shown], default=None)
        kinds = [
            k for e in sorted(events) if e <= row["epoch"] and e not in shown for k in events[e]
        ]
        shown |= {e for e in events if e <= row["epoch"]}
        label = ", ".join(sorted(set(kinds))) if prev is not None else ""
        inb = ", ".join(f"{q['measured_in_bottleneck']:.0f} ({q['predicted_in_bottleneck']:.1f})"
                        if q else "-" for q in p)  # fmt: skip
        t.add_row(str(row["epoch"]), f"{row['loss']:.4g}", str(row["n_fixed"]),
                  ", ".join(x["kind"] for x in c), ", ".join(f"{x['eps']:.3g}" for x in c),
                  col("{:.3g}", "contrast"), col("{:.2f}", "share"), inb,
                  ", ".join(f"{x['passage_full']:.3g}" for x in c),
                  col("{:.0f}", "measured_delay"), label)  # fmt: skip
    return t


def analyze_run(
    run_dir: Path,
    point: str | None = None,
    out: Path | None = None,
    *,
    video: bool = True,
    n_starts: int = 12,
    seed: int = 0,
    quiet: bool = False,
) -> list[tuple[object, Path]]:
    """Analyse the chosen grid points; return ``[(PointAnalysis, folder)]``."""
    import jax

    from ghostmech.plotting.style import save_figure
    from ghostmech.runs import open_run
    from ghostmech.runs.analysis import analyze_point, grid_points, parse_point, write_timeline

    run = open_run(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "analysis"
    results = []
    key = jax.random.key(seed)
    for p in grid_points(run, parse_point(point)):
        folder = out / point_label(p)
        a = analyze_point(run, p, key=key, n_starts=n_starts)
        write_timeline(a, folder / "timeline.json")
        save_figure(flows_figure(a), folder / "flows", formats=("png",), dpi=100)
        save_figure(timeline_figure(a), folder / "timeline", formats=("png",), dpi=100)
        if video:
            _video(a, folder / "training")
        if not quiet:
            console.print(
                f"[bold]{point_label(p)}[/bold] ({a.mode}, {a.system}, status {a.status})"
            )
            console.print(_table(a))
            console.print(
                "minimum: ghost = the trials pass it as a bottleneck: contrast C = max speed on "
                "the span / min ≥ 2 and share S of the steps to the crossing spent in "
                "B = {speed ≤ 2·min} ≥ 1/2; shallow = a ramp makes the delay. in B: steps "
                "measured (predicted by ẋ = v + c(x − x_g)²). Times in steps (× α for τ); "
                "docs/theory.md §4"
            )
            console.print(f"wrote {folder}")
        results.append((a, folder))
    return results


@app.command("analyze")
def analyze(
    run_dir: Path = typer.Argument(..., help="A run directory (ghostmech train / sweep)."),
    point: str | None = typer.Option(None, "--point", help="Grid point, e.g. lr=0.003,seed=0."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default RUN_DIR/analysis)."
    ),
    video: bool = typer.Option(True, "--video/--no-video", help="Write the training video."),
    n_starts: int = typer.Option(12, "--n-starts", help="Finder starts from task trajectories."),
    seed: int = typer.Option(0, "--seed", help="Seed of the start jitter."),
) -> None:
    """Fixed points, slow points and ghosts at every checkpoint, aligned with abrupt learning."""
    analyze_run(run_dir, point, out, video=video, n_starts=n_starts, seed=seed)
