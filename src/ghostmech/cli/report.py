"""``ghostmech report RUN_DIR``: one self-contained HTML page for a run.

The report embeds (as ``data:`` URIs, so it opens offline) first the fraction of networks
learned and trapped against the learning rate, then what ran, the final loss over
lr × network, the learning curves per learning rate (one line per network, shared
y-axis; see ``ghostmech.cli._report_page``), the analysis of ``ghostmech analyze`` (run first
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


def _analysis_sections(folder: Path) -> list:
    from ghostmech.runs.report import Section, image, paragraph, table

    tl = json.loads((folder / "timeline.json").read_text())
    rows = [(r["epoch"], r["loss"], r["n_fixed"], r["n_ghost"],
             ", ".join(f"{g['kind']} {g['eps']:.3g}" for g in r.get("candidates", [])),
             ", ".join(f"{g['passage']['measured_in_bottleneck']:.0f} / "
                       f"{g['passage']['measured_delay']:.0f}" if "passage" in g else "-"
                       for g in r.get("candidates", [])),
             ", ".join(f"{g['passage_full']:.3g}" for g in r.get("candidates", [])))
            for r in tl["checkpoints"]]  # fmt: skip
    events = [(e["epoch"], e["source"], e["kind"]) for e in tl["timeline"]]
    blocks = [
        paragraph(f"mode {tl['mode']}, task delay {tl['delay_steps']} steps, "
                  f"learning status {tl['learning_status']}, analysis status {tl['status']}"),
        table(["epoch", "loss", "fixed", "ghosts", "speed minima: kind ε",
               "steps in B / to crossing", "π/√ε (steps)"], rows),  # fmt: skip
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
    from ghostmech.cli._report_page import run_sections
    from ghostmech.cli.analyze import analyze_run, open_finished_run
    from ghostmech.runs.report import Section, paragraph, preformatted, write_page

    run = open_finished_run(run_dir)
    if out is None:
        out = output_file("--out (default RUN_DIR/report.html)", Path(run_dir) / "report.html",
                          hint="give --out FILE elsewhere")  # fmt: skip
    else:
        out = output_file("--out", out)
    adir = Path(run_dir) / "analysis"
    folders = sorted(p.parent for p in adir.glob("*/timeline.json"))
    with tempfile.TemporaryDirectory() as tmp:
        if not folders:  # analyse now; into the run only when the report goes there too
            if out.resolve().parent == Path(run_dir).resolve():
                output_dir("RUN_DIR/analysis (the report analyses the run there)", adir,
                           hint="give --out FILE outside the run")  # fmt: skip
            else:
                adir = Path(tmp) / "analysis"
            folders = [f for _, f in analyze_run(run_dir, None, adir, video=video, quiet=True)]
        sections = run_sections(run, Path(tmp))
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
