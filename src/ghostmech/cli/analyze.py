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
from rich.markup import escape
from rich.table import Table

from ghostmech.cli._app import app, console

__all__ = [
    "analyze",
    "analyze_run",
    "point_label",
    "resolve_point",
    "open_finished_run",
    "POINT_RTOL",
]

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


#: ``--point`` values match the nearest grid value within this relative difference: any
#: value printed with 3 or more significant digits (rounding error at most half a unit
#: in the third digit, i.e. 0.5 %) is recognised, e.g. lr=0.0178 for 0.017783.
POINT_RTOL = 5e-3


def open_finished_run(run_dir: Path):
    """`open_run`, with a damaged ``config.toml`` named and an unfinished run refused
    with how far it got and the command that finishes it."""
    import tomllib

    from ghostmech.runs import open_run
    from ghostmech.runs.progress import run_progress

    try:
        run = open_run(run_dir)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(
            f"{str(Path(run_dir) / 'config.toml')!r} is not valid TOML ({err}): the run "
            "directory is damaged"
        ) from None
    progress = run_progress(run)
    if not progress.finished:
        raise ValueError(progress.message())
    return run


def _nearest(name: str, value, values: np.ndarray, text: str):
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values.tolist())
    if isinstance(value, str):
        raise ValueError(f"--point {name}={value!r} must be a number; grid values: {shown}")
    vals = values.astype(float)
    exact = vals == value
    scale = np.where(vals == 0, 1.0, np.abs(vals))
    rel = np.where(vals == 0, np.inf, np.abs(vals - value) / scale)
    hits = np.flatnonzero(exact | ((rel <= POINT_RTOL) & (values.dtype.kind == "f")))
    if hits.size == 0:
        raise ValueError(
            f"--point {name}={value:g} is not on the grid (nearest match within a relative "
            f"{POINT_RTOL:.1%}); grid values: {shown}"
        )
    if hits.size > 1 and not exact.any():
        raise ValueError(f"--point {name}={value:g} is ambiguous: several grid values within "
                         f"{POINT_RTOL:.1%}: {', '.join(f'{vals[h]:g}' for h in hits)}")  # fmt: skip
    best = hits[np.argmax(exact[hits])] if exact.any() else hits[0]
    return values[best].item()


def resolve_point(run, text: str | None) -> dict | None:
    """``--point`` text → the grid point it names: each value matched to the nearest grid
    value within a relative `POINT_RTOL` (so values can be given as printed)."""
    from ghostmech.runs.analysis import parse_point
    from ghostmech.runs.grid import rank_label

    wanted = parse_point(text)
    if not wanted:
        return None
    grid, out = run.grid, {}
    for name, value in wanted.items():
        if name == "rank":
            labels = [] if grid.ranks is None else [rank_label(r) for r in grid.ranks]
            if rank_label(value) not in labels:
                raise ValueError(f"--point rank={value} must be one of: {', '.join(labels) or 'none (no rank axis)'}")  # fmt: skip
            out["rank"] = value
            continue
        if name not in grid.dims:
            raise ValueError(f"--point ({text!r}): {name!r} is not an axis of the grid; axes: "
                             f"{', '.join(grid.dims)}")  # fmt: skip
        out[name] = _nearest(name, value, np.asarray(grid.coords[name]), text)
    missing = [d for d in grid.dims if d not in out and len(grid.coords[d]) > 1]
    if grid.ranks is not None and len(grid.ranks) > 1 and "rank" not in out:
        missing.append("rank")
    if missing:
        raise ValueError(f"--point ({text!r}) must also give {', '.join(missing)} (the grid "
                         f"has several values of each)")  # fmt: skip
    return out


def _example_point(p: dict) -> str:
    return ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())


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
    """Analyse the chosen grid points; return ``[(PointAnalysis, folder)]``.

    Without ``point`` every grid point is analysed when there are at most 4, else the
    first one (and the choice is printed).
    """
    import jax

    from ghostmech import _checks
    from ghostmech.cli._outputs import output_dir
    from ghostmech.plotting.style import save_figure
    from ghostmech.runs.analysis import analyze_point, grid_points, write_timeline

    n_starts = _checks.check_positive_int("--n-starts", n_starts)
    seed = _checks.check_nonnegative_int("--seed", seed)
    run = open_finished_run(run_dir)
    chosen = resolve_point(run, point)
    points = grid_points(run, chosen)
    if out is None:
        out = output_dir("--out (default RUN_DIR/analysis)", Path(run_dir) / "analysis",
                         hint="give --out FOLDER elsewhere")  # fmt: skip
    else:
        out = output_dir("--out", out)
    if not quiet and chosen is None:
        total = run.grid.size * len(run.grid.parts)
        if len(points) < total:
            pts = run.grid.points()
            last = {d: pts[d][-1].item() for d in run.grid.dims}
            console.print(f"analysing {_example_point(points[0])}, the first of {total} grid "
                          f"points; choose another with --point, e.g. --point "
                          f"{_example_point(last)}", highlight=False, markup=False)  # fmt: skip
        elif total > 1:
            console.print(f"analysing all {total} grid points", highlight=False)
    results = []
    key = jax.random.key(seed)
    for p in points:
        folder = out / point_label(p)
        a = analyze_point(run, p, key=key, n_starts=n_starts)
        write_timeline(a, folder / "timeline.json")
        save_figure(flows_figure(a), folder / "flows", formats=("png",), dpi=100)
        save_figure(timeline_figure(a), folder / "timeline", formats=("png",), dpi=100)
        if video:
            _video(a, folder / "training")
        if not quiet:
            console.print(
                f"[bold]{escape(point_label(p))}[/bold] ({a.mode}, {a.system}, status {a.status})"
            )
            console.print(_table(a))
            console.print(
                "minimum: ghost = the trials pass it as a bottleneck: contrast C = max speed on "
                "the span / min ≥ 2 and share S of the steps to the crossing spent in "
                "B = {speed ≤ 2·min} ≥ 1/2; shallow = a ramp makes the delay. in B: steps "
                "measured (predicted by ẋ = v + c(x − x_g)²). Times in steps (× α for τ); "
                "docs/theory.md §4"
            )
            console.print(f"wrote {escape(str(folder))}")
        results.append((a, folder))
    return results


@app.command(
    "analyze",
    epilog="Example: ghostmech analyze runs/fig3a --point lr=0.003,seed=0 --no-video",
)
def analyze(
    run_dir: Path = typer.Argument(..., help="A finished run directory (ghostmech train / sweep)."),
    point: str | None = typer.Option(
        None, "--point",
        help="Grid point, e.g. lr=0.003,seed=0; values as printed are matched to the nearest "
        "grid value within 0.5 %. Default: all points if at most 4, else the first (printed).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default RUN_DIR/analysis)."
    ),
    video: bool = typer.Option(True, "--video/--no-video", help="Write the training video."),
    n_starts: int = typer.Option(12, "--n-starts", help="Finder starts from task trajectories."),
    seed: int = typer.Option(0, "--seed", help="Seed of the start jitter."),
) -> None:  # fmt: skip
    """Fixed points, slow points and ghosts at every checkpoint, aligned with abrupt learning."""
    analyze_run(run_dir, point, out, video=video, n_starts=n_starts, seed=seed)
