"""``ghostmech train`` / ``sweep`` / ``configs``: run a TOML experiment into a run directory.

``CONFIG`` is a path to a TOML file or the name of a shipped config
(``ghostmech configs`` lists them; ``--quick`` picks the quick variant).
``--set key.sub=value`` overrides any field (value parsed as TOML). Rerunning
the same command on the same ``--out`` continues an interrupted run (the
blocks of networks already done are not recomputed). ``sweep --workers N`` /
``--scheduler ADDRESS`` run the blocks on Dask (see docs/scaling-out.md).
"""

from __future__ import annotations

import errno
import tomllib
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ghostmech.cli._app import app, console, fail

CONFIG_ARG = typer.Argument(..., help="TOML file, or a shipped config name (see `configs`).")
SET_OPT = typer.Option([], "--set", help="Override: key.sub=value (TOML value); repeatable.")
OUT_OPT = typer.Option(
    None, "--out",
    help="Run directory (default: runs/NAME.quick or runs/NAME.full for a shipped config, "
    "runs/STEM for a TOML file; train adds .train).",
)  # fmt: skip
QUICK_OPT = typer.Option(
    True, "--quick/--full",
    help="Size of a shipped config: quick (default; seconds to minutes, as reproduce) or --full "
    "for the paper's size. Ignored for a TOML file.",
)  # fmt: skip
MEM_OPT = typer.Option(None, "--memory-limit-gb", help="Refuse grids estimated above this.")


WORKERS_OPT = typer.Option(
    None, "--workers", help="Run on a local Dask cluster of N worker processes (1 thread each)."
)
SCHED_OPT = typer.Option(
    None, "--scheduler", help="Run on an existing Dask cluster: its scheduler's address."
)
NPT_OPT = typer.Option(
    None, "--networks-per-task", help="Networks per task (default: one task per core)."
)
FIRST_OPT = typer.Option(
    None,
    "--first",
    help="A rank (grid.rank) whose blocks run before the others; repeat for more, in order. "
    "Every block still runs; the numbers do not change.",
)


def _load(path: Path, overrides: list[str]):
    """Read the config; errors name the config as the user gave it (a shipped name, not
    the package file) and say when ``--set`` overrides were applied."""
    import tomllib

    from ghostmech.runs import apply_overrides, config_from_dict, shipped_configs

    shipped = {p: (name, v) for name, vs in shipped_configs().items() for v, p in vs.items()}
    label = (f"{shipped[path][0]} (shipped, {shipped[path][1]})" if path in shipped
             else repr(str(path)))  # fmt: skip
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(
            f"config file {str(path)!r} is not UTF-8 text ({err.reason} at byte {err.start}); "
            "a config must be a UTF-8 TOML file"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    if overrides:
        label += " with --set " + " --set ".join(overrides)
    return config_from_dict(apply_overrides(data, list(overrides)), source=label)


def _plan(cfg, grid, out: Path, networks_per_task: int | None, limit: float | None):
    from ghostmech.runs.partition import Partition, choose_partition

    if (out / "partition.json").is_file():
        return Partition.from_json((out / "partition.json").read_text())
    return choose_partition(cfg, grid, networks_per_task, limit_gb=limit)


def _execute(config: str, overrides: list[str], out: Path | None, quick: bool,
             memory_limit_gb: float | None, *, single: bool, workers: int | None = None,
             scheduler: str | None = None, networks_per_task: int | None = None,
             first: list[str] | None = None) -> None:  # fmt: skip
    from ghostmech import _checks
    from ghostmech.runs import dir_status, resolve_config, resolve_grid, run_experiment
    from ghostmech.runs.config import GridConfig
    from ghostmech.runs.dask_executor import TaskFailedError, open_client
    from ghostmech.runs.partition import read_marker, task_memory

    if workers is not None and scheduler is not None:
        raise ValueError("--workers and --scheduler exclude each other: give one of them")
    if workers is not None:
        workers = _checks.check_positive_int("--workers", workers)
    if networks_per_task is not None:
        networks_per_task = _checks.check_positive_int("--networks-per-task", networks_per_task)
    if memory_limit_gb is not None:
        _checks.check_positive("--memory-limit-gb", memory_limit_gb)
    path = resolve_config(config, quick=quick)
    cfg = _load(path, overrides)
    if single:
        cfg = cfg.model_copy(update={"grid": GridConfig()})
    out = out or Path("runs") / (path.stem + (".train" if single else ""))
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out ({str(out)!r}) is an existing file, not a run directory")
    try:
        status = dir_status(out, cfg)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{str(out / 'config.toml')!r} is not valid TOML ({err}): --out holds "
                         "a damaged run directory") from None  # fmt: skip
    if status == "finished":
        console.print(f"{out}: this run is already finished; nothing to do.", markup=False)
        return
    grid = resolve_grid(cfg)
    limit = memory_limit_gb if memory_limit_gb is not None else cfg.output.memory_limit_gb
    plan = _plan(cfg, grid, out, networks_per_task, limit)
    if first:
        from ghostmech.runs.dask_executor import first_order

        try:
            first_order(first, plan.parts)
        except ValueError as err:
            raise ValueError(str(err).replace("`first`", "--first", 1)) from None
    total = grid.size * cfg.training.epochs * len(grid.parts)
    blocks = plan.blocks()
    finished = [b for b in blocks if read_marker(out, b) is not None] if status == "resume" else []
    done = sum(b.indices.size for b in finished) * cfg.training.epochs
    shape = " × ".join(f"{n} {d}" for d, n in zip(grid.dims, grid.shape, strict=True))
    verb = "resuming" if status == "resume" else "running"
    console.print(
        f"{verb} {cfg.name} ({shape}, {cfg.training.epochs} epochs) into {out}", markup=False
    )
    if workers is None and scheduler is None:
        from ghostmech.runs.partition import default_processes

        procs = default_processes(cfg, grid, len(blocks) - len(finished))
        where = "in-process" if procs == 1 else f"in {procs} processes (one per core)"
    else:
        where = f"on {workers} local Dask workers" if workers else f"on Dask at {scheduler}"
    console.print(
        f"{len(blocks)} tasks of {plan.width} networks, {len(finished)} done; {where}", markup=False
    )
    console.print(f"memory estimate: {task_memory(cfg, grid, plan.width)} per task", markup=False)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("network-epochs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    try:
        with (
            open_client(workers=workers, scheduler=scheduler) as client,
            Progress(*columns, console=console, transient=False, refresh_per_second=1) as bar,
        ):
            task = bar.add_task(cfg.name, total=total, completed=done)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = run_experiment(cfg, out, memory_limit_gb=memory_limit_gb, progress=update,
                                 networks_per_task=plan.networks_per_task, client=client,
                                 first=first)  # fmt: skip
    except (OSError, TaskFailedError) as err:
        reason = str(err)
        if isinstance(err, OSError) and err.strerror:
            reason = f"{err.strerror} ({errno.errorcode.get(err.errno, err.errno)})"
        if not (out / "progress.json").is_file():
            fail(f"could not create the run directory {str(out)!r}: {reason}")
        fail(
            f"could not write the run directory {str(out)!r}: {reason}; what finished is kept "
            "(ghostmech.open_run reads it): fix the cause and rerun the same command to continue"
        )
        return
    ds = run.metrics
    diverged = int(ds.status.sum())
    console.print(
        f"wrote {out}: {grid.size * len(grid.parts)} networks, {diverged} diverged; "
        f"open with ghostmech.open_run({str(out)!r})",
        markup=False,
    )


@app.command("train", epilog="Example: ghostmech train fig3a --set training.lr=0.01 --out runs/one")
def train(
    config: str = CONFIG_ARG,
    set_: list[str] = SET_OPT,
    out: Path | None = OUT_OPT,
    quick: bool = QUICK_OPT,
    memory_limit_gb: float | None = MEM_OPT,
) -> None:
    """Train ONE network (training.lr, training.seed; the [grid] is ignored)."""
    _execute(config, set_, out, quick, memory_limit_gb, single=True)


@app.command(
    "sweep", epilog="Example: ghostmech sweep fig6a_rank1 --workers 2  (--full: the paper's grid)"
)
def sweep(
    config: str = CONFIG_ARG,
    set_: list[str] = SET_OPT,
    out: Path | None = OUT_OPT,
    quick: bool = QUICK_OPT,
    memory_limit_gb: float | None = MEM_OPT,
    workers: int | None = WORKERS_OPT,
    scheduler: str | None = SCHED_OPT,
    networks_per_task: int | None = NPT_OPT,
    first: list[str] | None = FIRST_OPT,
) -> None:
    """Train the config's whole grid (lr × seed × ...): blocks of networks, here or on Dask."""
    _execute(config, set_, out, quick, memory_limit_gb, single=False, workers=workers,
             scheduler=scheduler, networks_per_task=networks_per_task, first=first)  # fmt: skip


@app.command("configs", epilog="Example: ghostmech configs")
def configs() -> None:
    """List the shipped experiment configs (the paper's RNN experiments) and their variants."""
    from ghostmech.runs import load_config, shipped_configs

    table = Table("name", "variants", "description", highlight=False)
    for name, variants in shipped_configs().items():
        desc = load_config(variants.get("full") or next(iter(variants.values()))).description
        table.add_row(escape(name), ", ".join(sorted(variants)), escape(desc))
    console.print(table)
