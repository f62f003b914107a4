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


def _matrix(names, quick: bool, out: Path, seeds: str, isa_matrix: bool, strict: bool) -> None:
    """The robustness matrix (`ghostmech.paper.robustness`): quick only."""
    from ghostmech.paper import robustness
    from ghostmech.paper.robustness import robust

    if not quick:
        raise ValueError("`--seeds`/`--isa-matrix` run the quick reproduction only; drop --full")
    seed_list = robustness.parse_seeds(seeds)
    isas = robustness.ISAS if isa_matrix else ("default",)
    console.print(f"matrix: {', '.join(names)} x seeds {seed_list} x {', '.join(isas)} into {out}")

    def show(r: dict) -> None:
        console.print(f"{r['isa']} seed {r['seed']}: exit {r['rc']}, {r['wall_s']:.0f} s")

    runs = robustness.run_matrix(names, seed_list, isas, out, on_run=show, resume=True)
    table = Table(title="robustness matrix (quick)")
    for col in ("claim", "passes / runs", "failed in"):
        table.add_column(col, overflow="fold")
    rows = robustness.tally(runs, names)
    for cid, row in rows.items():
        style = "green" if robust(row) else "bold red"
        count = f"{row['passes']} / {row['runs']}" + (
            f" ({row['not_run']} not decided)" if row["not_run"] else ""
        )
        table.add_row(escape(cid), f"[{style}]{count}[/{style}]", escape(", ".join(row["failed"])))
    console.print(table)
    console.print(f"table: {out / 'matrix.md'}")
    if strict and not all(robust(r) for r in rows.values()):
        raise typer.Exit(1)


@app.command(
    "reproduce",
    epilog="Example: ghostmech reproduce fig2 fig3a --out results  (--full: paper size)",
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
    seeds: str | None = typer.Option(
        None,
        "--seeds",
        help="Robustness matrix: a seed range (0-4) run quick, each in a fresh process; "
        "prints passes / runs per claim (OUT/matrix.md); rerun with the same --out to "
        "continue: finished cells are read back.",
    ),
    isa_matrix: bool = typer.Option(
        False,
        "--isa-matrix",
        help="Robustness matrix over default, AVX2 and SSE4_2 rounding "
        "(XLA_FLAGS=--xla_cpu_max_isa=...); seeds from --seeds, else --seed.",
    ),
) -> None:
    """Reproduce paper figures: panels (PNG+PDF), summary.json, REPRODUCTION.md, verdicts."""
    from ghostmech import _checks
    from ghostmech.cli._outputs import output_dir
    from ghostmech.paper import reproduce as run_figures
    from ghostmech.paper import resolve

    names = resolve(figures)  # fail on an unknown name before any work
    seed = _checks.check_nonnegative_int("--seed", seed)
    if seeds is not None or isa_matrix:  # bad matrix arguments fail before --out is made
        from ghostmech.paper import robustness

        if not quick:
            raise ValueError(
                "`--seeds`/`--isa-matrix` run the quick reproduction only; drop --full"
            )
        robustness.parse_seeds(seeds if seeds is not None else str(seed))
    output_dir("--out", out)
    if seeds is not None or isa_matrix:
        _matrix(names, quick, out, seeds if seeds is not None else str(seed), isa_matrix, strict)
        return
    console.print(f"running {', '.join(names)} ({'quick' if quick else 'full'}) into {out}",
                  markup=False)  # fmt: skip
    results = run_figures(names, quick=quick, out=out, seed=seed, on_done=_print_figure)
    failed = [f"{r.figure}:{c.id}" for r in results for c in r.claims if c.verdict == "fail"]
    for r in results:
        console.print(f"{r.figure}: {len(r.files)} files in {out / r.figure}", markup=False)
    console.print(f"summary: {out / 'summary.json'}; record: {out / 'REPRODUCTION.md'}",
                  markup=False)  # fmt: skip
    verdicts = [c.verdict for r in results for c in r.claims]
    undecided = verdicts.count("not-run")
    tail = f"; {undecided} not decided at this size (see each claim)" if undecided else ""
    if failed:
        console.print(
            f"[bold red]FAILED claims ({len(failed)}):[/bold red] {escape(', '.join(failed))}"
        )
        console.print(
            f"{verdicts.count('pass')} of {len(verdicts)} claims pass{tail}", markup=False
        )
        if strict:
            raise typer.Exit(1)
    elif undecided:
        console.print(f"[green]all {verdicts.count('pass')} decided claims pass[/green]{tail}")
    else:
        console.print(f"[green]all {len(verdicts)} claims pass[/green]")
