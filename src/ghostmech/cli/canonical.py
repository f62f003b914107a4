"""``ghostmech canonical ...``: the 1-D model ẋ = ε + x² from the command line.

Commands: ``landscape`` (L and ∂L/∂ε over ε), ``descend`` (gradient descent on
ε), ``critical-lr`` (ε*, ε₀ and η_c for both loss scales, optionally
measured), ``scaling`` (η_c against T and its exponent). Each prints a rich
table and, with ``--plot FILE``, saves a figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from ghostmech.cli._app import app, console

canonical_app = typer.Typer(
    help="The canonical model ẋ = ε + x²: landscape, descent, critical learning rate.",
    epilog="Example: ghostmech canonical critical-lr --T 100 --measure",
    no_args_is_help=True,
)
app.add_typer(canonical_app, name="canonical")

T_OPT = typer.Option(100.0, "--T", help="Delay T (the response window R defaults to T).")
R_OPT = typer.Option(None, "--R", help="Response window R (default: T).")
PLOT_OPT = typer.Option(None, "--plot", help="Save a figure to FILE (.png, .pdf, ...).")
#: one loss normalisation by default in every subcommand: L/T, the one the paper plots
#: (Fig. 2A) and whose η_c ∝ T⁻⁴ (Eq. 23); ``--scale raw`` is the integral itself
DEFAULT_SCALE = "per_T"
SCALE_OPT = typer.Option(
    DEFAULT_SCALE, "--scale", help="Loss normalisation: per_T (L/T, as the paper plots) | raw."
)


def _common(T: float | list[float], R: float | None, scale: str, plot: Path | None) -> None:
    """Check the options every subcommand shares, before any work."""
    from ghostmech import _checks
    from ghostmech.canonical._args import SCALES
    from ghostmech.cli._outputs import output_file

    for t in T if isinstance(T, list) else [T]:
        _checks.check_positive("--T", t)
    if R is not None:
        _checks.check_positive("--R", R)
    _checks.check_one_of("--scale", scale, SCALES)
    if plot is not None:
        output_file("--plot", plot)


def _save(fig, path: Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=150)
        console.print(f"figure: {path}", markup=False)


def _g(x: float) -> str:
    return f"{float(x):.4e}"


@canonical_app.command(
    "critical-lr",
    epilog="Example: ghostmech canonical critical-lr --T 100 --measure --plot eta.png",
)
def critical_lr_cmd(
    T: float = T_OPT,
    R: float | None = R_OPT,
    measure: bool = typer.Option(False, "--measure", help="Also measure η_c by descent."),
    scale: str = typer.Option(
        DEFAULT_SCALE,
        "--scale",
        help="Loss scale of the measurement (needs --measure): per_T | raw.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the measured starts."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Save the measured fraction trapped to FILE (needs --measure)."
    ),
) -> None:
    """ε* = π²/(4T²), ε₀ = π²/(4(T+R)²) and η_c (Eq. 23) for the raw and L/T losses."""
    from ghostmech import _checks
    from ghostmech import canonical as cm

    _common(T, R, scale, plot)
    seed = _checks.check_nonnegative_int("--seed", seed)
    if not measure:
        given = [n for n, v in (("--plot", plot), ("--seed", seed or None)) if v is not None]
        if scale != DEFAULT_SCALE:
            given.insert(0, "--scale")
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise ValueError(f"{', '.join(given)} only {verb} to the measurement: add --measure")

    table = Table(title=f"canonical model, T = {T:g}, R = {T if R is None else R:g}")
    for col in ("quantity", "value"):
        table.add_column(col)
    table.add_row("ε* (optimum)", _g(cm.optimum(T, R)))
    table.add_row("ε₀ (point of no return)", _g(cm.point_of_no_return(T, R)))
    table.add_row("η_c, raw loss", _g(cm.critical_lr(T, R, scale="raw")))
    table.add_row("η_c, L/T (per_T)", _g(cm.critical_lr(T, R, scale="per_T")))
    if measure:
        import jax

        res = cm.find_critical_lr(T, R, key=jax.random.PRNGKey(seed), scale=scale)
        table.add_row(f"η_c measured ({scale}, {res.status})", _g(res.measured))
        table.add_row("measured / theory", f"{float(res.measured) / float(res.theory):.4f}")
        if plot is not None:
            from ghostmech.plotting.canonical import plot_fraction_trapped

            _save(plot_fraction_trapped(res), plot)
    console.print(table)


@canonical_app.command(
    "landscape", epilog="Example: ghostmech canonical landscape --T 100 --beta 0.1 --beta 1"
)
def landscape_cmd(
    T: float = T_OPT,
    R: float | None = R_OPT,
    beta: list[float] = typer.Option([], "--beta", help="Finite confidences β (repeatable)."),
    x_theta: float = typer.Option(10.0, "--x-theta", help="Output threshold x_θ (finite β)."),
    scale: str = SCALE_OPT,
    method: str = typer.Option("closed", "--method", help="Finite β: closed | euler."),
    lo: float = typer.Option(-1.0, "--lo", help="Smallest ε, in units of ε*."),
    hi: float = typer.Option(2.0, "--hi", help="Largest ε, in units of ε*."),
    points: int = typer.Option(13, "--points", help="Rows of the table."),
    plot: Path | None = PLOT_OPT,
) -> None:
    """L(ε) and ∂L/∂ε on a grid of ε/ε* (analytic limit and each --beta)."""
    from ghostmech import _checks
    from ghostmech import canonical as cm

    _common(T, R, scale, plot)
    points = _checks.check_int_in_range("--points", points, 2, 100_000)
    lo, hi = _checks.check_finite("--lo", lo), _checks.check_finite("--hi", hi)
    if not hi > lo:
        raise ValueError(f"`--hi` (={hi!r}) must exceed `--lo` (={lo!r})")
    e_star = cm.optimum(T, R)
    ratio = np.linspace(lo, hi, points)
    kw = dict(T=T, R=R, scale=scale)
    curves = {"analytic": np.asarray(cm.loss(ratio * e_star, **kw))}
    grads = {"analytic": np.asarray(cm.loss_grad(ratio * e_star, **kw))}
    for b in beta:
        fkw = kw | dict(beta=b, x_theta=x_theta, method=method)
        curves[f"β = {b:g}"] = np.asarray(cm.loss(ratio * e_star, **fkw))
        grads[f"β = {b:g}"] = np.asarray(cm.loss_grad(ratio * e_star, **fkw))
    table = Table(title=f"loss landscape ({scale}), T = {T:g}, ε* = {e_star:.4e}")
    table.add_column("ε/ε*")
    for name in curves:
        table.add_column(f"L {name}")
        table.add_column(f"∂L/∂ε {name}")
    for i, r in enumerate(ratio):
        cells = [f"{r:.3f}"]
        for name in curves:
            cells += [f"{curves[name][i]:.4g}", f"{grads[name][i]:.4g}"]
        table.add_row(*cells)
    console.print(table)
    if plot is not None:
        from ghostmech.plotting.canonical import plot_landscape

        e0 = cm.point_of_no_return(T, R) / e_star
        _save(plot_landscape(ratio, curves, eps0_over_star=e0), plot)


def _first_at_or_below(eps: np.ndarray, level: float) -> int | None:
    hits = np.nonzero(eps <= level)[0]
    return int(hits[0]) if hits.size else None


@canonical_app.command(
    "descend", epilog="Example: ghostmech canonical descend --lr 1e-8 --lr 1e-7 --plot gd.png"
)
def descend_cmd(
    eps_init: float = typer.Option(10.0, "--eps-init", help="Start ε, in units of ε*."),
    lr: list[float] = typer.Option(
        [1e-8, 1e-7],
        "--lr",
        help="Learning rates (repeatable); the defaults on L/T equal the paper's Fig. 2B-C "
        "rates 1e-10, 1e-9 on the raw loss at T = 100.",
    ),
    epochs: int = typer.Option(3000, "--epochs", help="Gradient steps."),
    T: float = T_OPT,
    R: float | None = R_OPT,
    beta: float | None = typer.Option(None, "--beta", help="Finite confidence β (default ∞)."),
    x_theta: float | None = typer.Option(None, "--x-theta", help="Threshold x_θ (finite β)."),
    scale: str = SCALE_OPT,
    plot: Path | None = PLOT_OPT,
) -> None:
    """Gradient descent ε ← ε − η ∂L/∂ε from eps_init·ε*: plateau, drop, trapping."""
    from ghostmech import canonical as cm

    _common(T, R, scale, plot)
    e_star, e_zero = cm.optimum(T, R), cm.point_of_no_return(T, R)
    table = Table(title=f"gradient descent on ε ({scale} loss), T = {T:g}, start {eps_init:g} ε*")
    for col in ("η", "epochs to ε ≤ ε*", "final ε/ε*", "final loss", "trapped", "status"):
        table.add_column(col)
    runs = {}
    for eta in lr:
        d = cm.descend(eps_init * e_star, eta, epochs, T, R, beta, x_theta, scale)
        eps = np.asarray(d.eps)
        reach = _first_at_or_below(eps, e_star)
        table.add_row(
            f"{eta:.3g}",
            "never" if reach is None else str(reach),
            f"{eps[-1] / e_star:.4f}",
            f"{float(np.asarray(d.loss)[-1]):.4g}",
            str(bool(np.asarray(d.trapped))),
            str(np.asarray(d.status).item()),
        )
        runs[f"η = {eta:.3g}"] = d
    console.print(table)
    if plot is not None:
        from ghostmech.plotting.canonical import plot_descent

        _save(plot_descent(runs, eps_star=e_star, eps0=e_zero), plot)


@canonical_app.command(
    "scaling", epilog="Example: ghostmech canonical scaling --T 50 --T 100 --T 200"
)
def scaling_cmd(
    T: list[float] = typer.Option([25.0, 50.0, 100.0, 200.0], "--T", help="Delays (repeatable)."),
    R: float | None = typer.Option(None, "--R", help="Fixed response window (default: R = T)."),
    scale: str = SCALE_OPT,
    seed: int = typer.Option(0, "--seed", help="Seed of the measured starts."),
    plot: Path | None = PLOT_OPT,
) -> None:
    """Measured and theoretical η_c against T, and the exponent p of η_c ∝ T^p."""
    import jax

    from ghostmech import _checks
    from ghostmech import canonical as cm

    _common(list(T), R, scale, plot)
    if len(set(T)) < 2:
        raise ValueError(f"--T needs at least two different delays to fit an exponent; got "
                         f"{', '.join(f'{t:g}' for t in T)}")  # fmt: skip
    seed = _checks.check_nonnegative_int("--seed", seed)
    res = cm.scaling_exponent(T, R, key=jax.random.PRNGKey(seed), scale=scale)
    window = "R = T" if R is None else f"R = {R:g}"
    table = Table(title=f"critical learning rate against T ({scale} loss, {window})")
    for col in ("T", "η_c measured", "η_c theory", "measured / theory"):
        table.add_column(col)
    for t, m, th in zip(res.Ts, res.eta_c, res.eta_c_theory, strict=True):
        table.add_row(f"{t:g}", _g(m), _g(th), f"{m / th:.4f}")
    console.print(table)
    console.print(
        f"exponent {res.exponent:.4f} (theory {res.theory_exponent:.4f}), status {res.status}"
    )
    if plot is not None:
        from ghostmech.plotting.canonical import plot_scaling

        _save(plot_scaling(res), plot)
