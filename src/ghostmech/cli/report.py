"""``ghostmech report RUN_DIR``: one self-contained HTML page for a run; ``ghostmech import
FILE``: the fixed points, slow points and ghosts of a network trained elsewhere.

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

import numpy as np
import typer
from rich.table import Table

from ghostmech.cli._app import app, console

__all__ = ["report", "import_network", "build_report"]


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
    from ghostmech.cli._report_page import run_sections
    from ghostmech.cli.analyze import analyze_run
    from ghostmech.runs import open_run
    from ghostmech.runs.report import Section, paragraph, preformatted, write_page

    run = open_run(run_dir)
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    adir = Path(run_dir) / "analysis"
    folders = sorted(p.parent for p in adir.glob("*/timeline.json"))
    if not folders:
        folders = [f for _, f in analyze_run(run_dir, None, adir, video=video, quiet=True)]
    with tempfile.TemporaryDirectory() as tmp:
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


@app.command("report")
def report(
    run_dir: Path = typer.Argument(..., help="A run directory (ghostmech train / sweep)."),
    out: Path | None = typer.Option(None, "--out", help="HTML file (default RUN_DIR/report.html)."),
    video: bool = typer.Option(True, "--video/--no-video", help="Make the training video."),
) -> None:
    """A self-contained static HTML report of a run (opens offline)."""
    path = build_report(run_dir, out, video=video)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


@app.command("import")
def import_network(
    file: Path = typer.Argument(..., help=".npz (W, b, W_in, w_out, alpha) or .pt state dict."),
    fmt: str = typer.Option("auto", "--format", help="auto | npz | torch-rnn | torch-state-dict."),
    alpha: float | None = typer.Option(None, "--alpha", help="α = Δt/τ if the file has none."),
    out: Path | None = typer.Option(None, "--out", help="Folder for points.json and figures."),
    n_starts: int = typer.Option(32, "--n-starts", help="Finder starts (from trajectories)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random starts."),
    save: Path | None = typer.Option(None, "--save", help="Also save as a ghostmech .npz."),
) -> None:
    """Find and classify the fixed points, slow points and ghosts of an external network."""
    import jax

    from ghostmech.dynamics import (
        as_map,
        bottleneck,
        find_points,
        from_network,
        sample_starts,
        step_trajectories,
    )
    from ghostmech.networks import to_npz
    from ghostmech.networks.external import load_network
    from ghostmech.plotting.dynamics import plot_pca
    from ghostmech.plotting.style import save_figure

    net = load_network(file, fmt=fmt, alpha=alpha)
    f = from_network(net)
    k1, k2 = jax.random.split(jax.random.key(seed))
    with jax.enable_x64(True):
        x0 = 0.5 * jax.random.normal(k1, (max(n_starts // 8, 1), net.n))
        starts = np.asarray(sample_starts(f, x0, n_steps=80, every=10, noise=0.02, key=k2))
    pts = find_points(f, starts)
    system = "map" if float(net.alpha) == 1.0 else "flow"
    if system == "map":  # α = 1: r_{t+1} = tanh(W r + b), multipliers μ = 1 + λ
        pts = as_map(pts)
    with jax.enable_x64(True):
        trajs = step_trajectories(f, x0, 200)
    passages = {int(i): bottleneck(f, trajs, pts.xstar[i], dt=float(net.alpha))
                for i in pts.where("ghost")}  # fmt: skip
    spec = "max |μ|" if system == "map" else "max Re λ"
    t = Table("kind", "|x|", "q", spec, "ghost ε", "π/√ε", "passage", "steps in B / run")
    for i in np.flatnonzero(pts.status == "converged"):
        s = (
            np.abs(pts.multipliers[i]).max()
            if system == "map"
            else pts.eigval_J_xstar[i].real.max()
        )
        bn = passages.get(int(i))
        t.add_row(str(pts.kind[i]), f"{np.linalg.norm(pts.xstar[i]):.3g}", f"{pts.qstar[i]:.2e}",
                  f"{s:.3g}", f"{pts.eps[i]:.3g}", f"{pts.dwell[i]:.3g}",
                  "" if bn is None else bn.kind,
                  "" if bn is None else f"{bn.measured_in_bottleneck:.0f} / {bn.measured_delay:.0f}")  # fmt: skip
    kind_text = ("discrete-time map (kinds from multipliers μ)" if system == "map"
                 else "Euler flow (kinds from eigenvalues λ)")  # fmt: skip
    console.print(f"{file}: n = {net.n}, α = {net.alpha}, rank {net.rank or 'full'}, {kind_text}")
    console.print(t)
    console.print("passage: a ghost candidate is a ghost only when the network's own runs pass "
                  "it as a bottleneck (docs/theory.md §4); shallow = a ramp, off_path = not visited")  # fmt: skip
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        doc = {**pts.to_dict(), "passages": {str(i): b.to_dict() for i, b in passages.items()}}
        (out / "points.json").write_text(json.dumps(doc, default=str, indent=1))
        save_figure(plot_pca(pts), out / "points_pca", formats=("png",), dpi=100)
        console.print(f"wrote {out}")
    if save is not None:
        to_npz(net, save)
        console.print(f"saved {save}")
