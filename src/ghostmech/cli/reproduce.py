"""``ghostmech reproduce FIG... --quick|--full --out DIR``: rerun paper figures, judge claims."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ghostmech.cli._app import app, console

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "not-run": "yellow"}


def _measured(values: dict) -> str:
    parts = []
    for k, v in values.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return "\n".join(parts)


def _print_figure(res) -> None:
    table = Table(title=f"{res.figure} ({'quick' if res.quick else 'full'}, {res.wall_s:.1f} s)")
    table.add_column("claim", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("measured", overflow="fold")
    table.add_column("tolerance", overflow="fold")
    for c in res.claims:
        style = _VERDICT_STYLE[c.verdict]
        table.add_row(escape(c.id), f"[{style}]{c.verdict}[/{style}]",
                      escape(_measured(c.measured)), escape(c.tolerance))  # fmt: skip
    console.print(table)


@app.command(
    "reproduce", epilog="Example: ghostmech reproduce fig2 fig3a --out results  (--full: paper size)"
)
def reproduce(
    figures: list[str] = typer.Argument(
        ..., help="Figures to run: fig1, fig2, fig8a, ..., a figure number (fig8), or 'all'."
    ),
    quick: bool = typer.Option(
        True, "--quick/--full", help="Quick size (default; seconds) or --full for the paper's size."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory (created; results merged)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the figures' random draws."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 1 if any claim fails."),
) -> None:
    """Reproduce paper figures: panels (PNG+PDF), summary.json, REPRODUCTION.md, verdicts."""
    from ghostmech import _checks
    from ghostmech.cli._outputs import output_dir
    from ghostmech.paper import reproduce as run_figures
    from ghostmech.paper import resolve

    names = resolve(figures)  # fail on an unknown name before any work
    seed = _checks.check_nonnegative_int("--seed", seed)
    output_dir("--out", out)
    console.print(f"running {', '.join(names)} ({'quick' if quick else 'full'}) into {out}",
                  markup=False)  # fmt: skip
    results = run_figures(names, quick=quick, out=out, seed=seed, on_done=_print_figure)
    failed = [f"{r.figure}:{c.id}" for r in results for c in r.claims if c.verdict == "fail"]
    for r in results:
        console.print(f"{r.figure}: {len(r.files)} files in {out / r.figure}", markup=False)
    console.print(f"summary: {out / 'summary.json'}; record: {out / 'REPRODUCTION.md'}",
                  markup=False)  # fmt: skip
    if failed:
        console.print(f"[bold red]FAILED claims ({len(failed)}):[/bold red] {', '.join(failed)}")
        if strict:
            raise typer.Exit(1)
    else:
        n = sum(len(r.claims) for r in results)
        console.print(f"[green]all {n} claims pass[/green]")
