"""``ghostmech report RUN_DIR``: one self-contained HTML page for a run.

The report embeds (as ``data:`` URIs, so it opens offline) the learning curves per
learning rate (one line per seed), the analysis of ``ghostmech analyze`` (run first
when ``RUN_DIR/analysis`` is missing): events timeline, flows / phase portraits per
checkpoint, the training video, and the run's config and versions.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

from ghostmech.cli._app import app, console

__all__ = ["report", "build_report"]


def _curves_figure(run, rank_index: int | None):
    from ghostmech.plotting.style import new_figure
    from ghostmech.plotting.training import plot_curves

    ds = run.metrics if rank_index is None else run.metrics.isel(rank=rank_index)
    lrs = ds.lr.values
    cols = min(4, len(lrs))
    fig, axes = new_figure((len(lrs) + cols - 1) // cols, cols)
    for ax, lr in zip(axes, lrs, strict=False):
        loss = ds.loss.sel(lr=lr).values.reshape(-1, ds.sizes["epoch"])
        plot_curves(ds.epoch.values, {"loss": loss}, ax=ax, title=f"lr = {lr:g}")
    for ax in axes[len(lrs) :]:
        ax.set_axis_off()
    return fig


def _analysis_sections(folder: Path) -> list:
    from ghostmech.runs.report import Section, image, paragraph, table

    tl = json.loads((folder / "timeline.json").read_text())
    rows = [(r["epoch"], r["loss"], r["n_fixed"], r["n_ghost"],
             ", ".join(f"{g['eps']:.3g}" for g in r["ghosts"]),
             ", ".join(f"{g['dwell']:.3g}" for g in r["ghosts"])) for r in tl["checkpoints"]]  # fmt: skip
    events = [(e["epoch"], e["source"], e["kind"]) for e in tl["timeline"]]
    blocks = [
        paragraph(f"mode {tl['mode']}, task delay {tl['delay_steps']} steps, "
                  f"learning status {tl['learning_status']}, analysis status {tl['status']}"),
        table(["epoch", "loss", "fixed", "ghosts", "ghost ε", "dwell π/√ε (steps)"], rows),
        image(folder / "timeline.png", "loss, loss jumps (red), dynamical events (dashed)"),
        table(["epoch", "source", "event"], events),
        image(folder / "flows.png", "flow / phase portrait / PCA per checkpoint"),
    ]  # fmt: skip
    video = folder / "training.gif"
    if video.is_file():
        blocks.append(image(video, "training video"))
    return [Section(f"Analysis {folder.name}", blocks)]


def build_report(run_dir: Path, out: Path | None = None, *, video: bool = True) -> Path:
    """Write the HTML report of ``run_dir`` (analysing it first if needed); return its path."""
    import jax

    import ghostmech
    from ghostmech.cli._outputs import output_dir, output_file
    from ghostmech.cli.analyze import analyze_run, open_finished_run
    from ghostmech.plotting.style import save_figure
    from ghostmech.runs.report import Section, image, paragraph, preformatted, write_page

    run = open_finished_run(run_dir)
    if out is None:
        out = output_file("--out (default RUN_DIR/report.html)", Path(run_dir) / "report.html",
                          hint="give --out FILE elsewhere")  # fmt: skip
    else:
        out = output_file("--out", out)
    adir = Path(run_dir) / "analysis"
    folders = sorted(p.parent for p in adir.glob("*/timeline.json"))
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        if not folders:  # analyse now; into the run only when the report goes there too
            if out.resolve().parent == Path(run_dir).resolve():
                output_dir("RUN_DIR/analysis (the report analyses the run there)", adir,
                           hint="give --out FILE outside the run")  # fmt: skip
            else:
                adir = Path(tmp) / "analysis"
            folders = [f for _, f in analyze_run(run_dir, None, adir, video=video, quiet=True)]
        blocks = []
        ranks = [None] if run.grid.ranks is None else list(range(len(run.grid.ranks)))
        for i in ranks:
            stem = Path(tmp) / f"curves_{i}"
            save_figure(_curves_figure(run, i), stem, formats=("png",), dpi=90)
            label = "" if i is None else f"rank {run.grid.ranks[i]}: "
            blocks.append(image(stem.with_suffix(".png"), f"{label}loss per lr (lines: seeds)"))
        sections.append(Section("Learning curves", blocks))
        for folder in folders:
            sections += _analysis_sections(folder)
    attrs = dict(run.metrics.attrs)
    versions = (f"ghostmech {ghostmech.__version__}, jax {jax.__version__} (report); "
                f"run written by ghostmech {attrs.get('ghostmech_version', '?')}, "
                f"jax {attrs.get('jax_version', '?')}; status {run.status}")  # fmt: skip
    sections.append(Section("Config and versions",
                            [paragraph(versions), preformatted(run.config.to_toml())]))  # fmt: skip
    return write_page(out, f"ghostmech run: {run.config.name}", sections)


@app.command("report", epilog="Example: ghostmech report runs/fig3a --out fig3a.html")
def report(
    run_dir: Path = typer.Argument(..., help="A run directory (ghostmech train / sweep)."),
    out: Path | None = typer.Option(None, "--out", help="HTML file (default RUN_DIR/report.html)."),
    video: bool = typer.Option(True, "--video/--no-video", help="Make the training video."),
) -> None:
    """A self-contained static HTML report of a run (opens offline)."""
    path = build_report(run_dir, out, video=video)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", markup=False)
