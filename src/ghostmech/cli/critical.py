"""``ghostmech critical-lr CONFIG``: a network's critical learning rate, predicted in seconds.

Builds the config's network (seed: ``--seed``, default the config's first grid seed or
``training.seed``) and task, traces the gradient-flow path from the initialisation and
prints the predicted η_c, the bound that binds and the quantities it used
(`ghostmech.critical.predict`; docs/critical.md). ``--measure`` also trains the config's
network family on a log grid of lrs around the prediction (`critical.measure_sweep`,
the Fig. 6A rule: learned = final L < 0.1, epochs = ``training.epochs``) and prints both
with their ratio. ``--json``: one JSON object with ``predicted`` (and ``measured``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from ghostmech.cli._app import app, console

CONFIG_ARG = typer.Argument(
    ..., help="A shipped config name (see `ghostmech sweep`) or a TOML path."
)
SET_OPT = typer.Option([], "--set", help="Override a config value: KEY=VALUE (repeatable).")
JSON_OPT = typer.Option(False, "--json", help="Print one JSON object instead of a table.")
MEASURE_OPT = typer.Option(False, "--measure", help="Also measure η_c on a grid of lrs.")
QUICK_OPT = typer.Option(
    True,
    "--quick/--full",
    help="Size of a shipped config: quick (default, as every command) or --full (the paper's).",
)
SEED_OPT = typer.Option(None, "--seed", help="Seed of the network to predict for.")
SEEDS_OPT = typer.Option(4, "--seeds", help="Networks per lr with --measure.")
LRS_OPT = typer.Option(9, "--lrs", help="Learning rates with --measure (1 decade either side).")


def _setup(config: str, overrides: list[str], quick: bool, seed: int | None):
    from ghostmech._checks import check_nonnegative_int
    from ghostmech.runs import load_config, resolve_config, resolve_grid
    from ghostmech.runs.factory import build_network, make_task

    cfg = load_config(resolve_config(config, quick=quick), overrides)
    grid = resolve_grid(cfg)
    seeds = [int(s) for s in grid.coords.get("seed", [cfg.training.seed])]
    if seed is not None:
        seeds = [check_nonnegative_int("--seed", seed)]
    part = grid.parts[0]
    task = make_task(cfg)

    def build(key):
        return build_network(cfg, part, key=key)

    return cfg, task, build, seeds


def _finite(obj):
    """``obj`` with NaN / inf floats as None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


@app.command(
    "critical-lr",
    epilog="Examples: ghostmech critical-lr fig6a_rank1 --quick  |  "
    "ghostmech critical-lr fig6a_rank1 --quick --measure --json",
)
def critical_lr(
    config: str = CONFIG_ARG,
    set_: list[str] = SET_OPT,
    as_json: bool = JSON_OPT,
    measure: bool = MEASURE_OPT,
    quick: bool = QUICK_OPT,
    seed: int | None = SEED_OPT,
    seeds: int = SEEDS_OPT,
    n_lrs: int = LRS_OPT,
) -> None:
    """Predict (and with --measure, measure) the critical learning rate of CONFIG's network."""
    import jax

    from ghostmech._checks import check_positive_int
    from ghostmech.critical.measure import measure_sweep
    from ghostmech.critical.predict import predict

    seeds = check_positive_int("--seeds", seeds)
    n_lrs = check_positive_int("--lrs", n_lrs)
    cfg, task, build, grid_seeds = _setup(config, set_, quick, seed)
    if cfg.training.optimizer != "sgd":
        raise ValueError(
            f"training.optimizer (={cfg.training.optimizer!r}): the prediction is for plain "
            'SGD (the critical lr of Eq. 23); use a config with optimizer = "sgd"'
        )
    k_build, _ = jax.random.split(jax.random.key(grid_seeds[0]))
    pred = predict(build(k_build), task, key=jax.random.key(0))
    out = {
        "config": cfg.name,
        "seed": grid_seeds[0],
        "status": pred.status,
        "predicted": pred.predicted,
        "binds": pred.binds,
        "predictors": pred.values,
        "quantities": pred.quantities,
        "path_steps": pred.path_steps,
        "wall_s": pred.wall_s,
    }
    if measure:
        lrs = np.logspace(math.log10(pred.predicted) - 1, math.log10(pred.predicted) + 1, n_lrs)
        rng = np.random.default_rng(grid_seeds[0])
        mseeds = [int(s) for s in rng.integers(0, 2**31 - 1, seeds)]
        m = measure_sweep(
            build,
            task,
            lrs,
            seeds=mseeds,
            epochs=cfg.training.epochs,
            chunk=cfg.training.chunk,
            backend="auto",
        )
        out |= {
            "measured": m.eta_c,
            "measured_ci95": list(m.ci),
            "measured_status": m.status,
            "ratio": pred.predicted / m.eta_c if m.eta_c > 0 else math.nan,
            "measurement": m.as_dict(),
        }
    if as_json:
        print(json.dumps(_finite(out), allow_nan=False))
        return
    table = Table(title=escape(f"critical lr of {cfg.name} (seed {grid_seeds[0]})"))
    table.add_column("quantity")
    table.add_column("value")
    table.add_row("predicted η_c", f"{pred.predicted:.4g}")
    table.add_row("binds", pred.binds)
    for k, v in pred.values.items():
        table.add_row(f"  {k}", f"{v:.4g}")
    for k, v in pred.quantities.items():
        table.add_row(escape(k), f"{v:.4g}")
    if measure:
        table.add_row("measured η_c", f"{out['measured']:.4g} ({out['measured_status']})")
        lo, hi = out["measured_ci95"]
        table.add_row("measured 95 % interval", f"[{lo:.4g}, {hi:.4g}]")
        table.add_row("predicted / measured", f"{out['ratio']:.3g}")
    table.add_row("status", pred.status)
    table.add_row("path steps / wall s", f"{pred.path_steps} / {pred.wall_s:.1f}")
    console.print(table)
