"""Beyond the paper: the critical learning rate of the rank-one RNN against the delay T.

The canonical model predicts η_c ∝ T⁻⁴ for the loss divided by T (Eq. 23,
docs/theory.md). Does the rank-one RNN of Fig. 3A follow it? For each delay
T ∈ {10, 20, 40, 80} (response R = T, loss Σ_t (z_t − ŷ_t)²/T) we train
``seeds`` networks at each lr of one log grid (the same for every T, so
the grid cannot bias the exponent), with the exact rank-one kernel, and call a network *learned* when its final loss is
below `LEARNED` (trapped networks sit at L = R/T = 1, learned ones near 0.02).

η_c(T) is the geometric midpoint between the last lr, above the best lr,
whose fraction learned is ≥ ½ and the next one (`critical_from_fraction`:
`ghostmech.training.detect.critical_lr`, rule ``"falls_after_peak"``).
Each seed also gets its own η_c (the same rule on its 0/1 learned curve,
`per_seed_critical`), and the exponent is the least-squares slope of log η_c
against log T over all (seed, T) points, with its 95 % t-interval
(`ghostmech.stats.slope_ci`). The verdict checks only that η_c falls
with T: the interval's upper end is below 0 (one-sided test of slope < 0 at
2.5 %), with η_c found for at least half the seeds at every delay. The
measured exponent and interval are the finding, reported next to the
canonical −4.

Quick size (the quick ``fig9_T4``, ``fig9_T6``, ``fig9_T10``): T ∈ {4, 6, 10}
(the issue's ≥ 3 delays; short delays learn within
5000 epochs), 4 seeds. Pilot (6 seeds per T, same grid and epochs): slope
−1.44 with standard error 0.21 for 4 seeds × 3 delays, so the upper end of the
interval (≈ −1.0) is ~5 standard errors from 0: the verdict is decisive.

Registered as figure ``fig9`` (``ghostmech reproduce fig9``) by
``ghostmech.paper`` (see docs/reproduction.md).

Sizes (`sizes`): one shipped config per delay, ``fig9_T{T}`` (quick / full
variant; `CONFIGS` lists which delays each mode measures), holding the delay, seeds,
lr grid, epochs and chunk; every config of a mode must share the seeds and the lr
grid (else `sizes` raises), and their epochs follow `epochs_for` (written out in
each TOML). ``ghostmech sweep fig9_T10 --quick`` trains one delay of this figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_of
from ghostmech.paper.fig3a import rank1_init, train_checkpointed
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_fraction
from ghostmech.stats import slope_ci
from ghostmech.training.detect import Critical, Outcome, classify, critical_lr

__all__ = [
    "run",
    "Sizes",
    "CONFIGS",
    "sizes",
    "LEARNED",
    "critical_from_fraction",
    "fraction_learned",
    "fit_exponent",
    "per_seed_critical",
    "learned",
    "epochs_for",
]

LEARNED = 0.1  # learned: final L < 0.1 (trapped ones sit at L = R/T = 1, learned near 0.02)
HALF = 0.5  # η_c: where the fraction learned falls below ½ above its peak
CANONICAL_EXPONENT = -4.0
EXPONENT_MAX = 0.0  # verdict: the exponent's 95 % interval lies below 0 (η_c falls with T)


@dataclass(frozen=True)
class Sizes:
    """Delays, seeds, one lr grid for every delay (log10 start, stop, count), and the
    epochs and chunk at each delay."""

    delays: tuple[int, ...]
    n_seeds: int
    lrs: tuple[float, float, int]
    epochs: tuple[int, ...]
    chunks: tuple[int, ...]


# the shipped configs (one per delay) each mode trains
CONFIGS = {True: ("fig9_T4", "fig9_T6", "fig9_T10"),
           False: ("fig9_T10", "fig9_T20", "fig9_T40", "fig9_T80")}  # fmt: skip


def sizes(quick: bool, configs: tuple[str, ...] | None = None) -> Sizes:
    """The sizes of the shipped configs ``configs`` (default `CONFIGS` of the mode; quick or
    full variants): DA with delay = response, SGD, the same seeds and lr grid in each."""
    cfgs = [settings.shipped(c, quick=quick) for c in configs or CONFIGS[quick]]
    for cfg in cfgs:
        settings.require_rank1_da(cfg)
    grids = {(settings.n_seeds(c), settings.lr_logspace(c)) for c in cfgs}
    if len(grids) != 1:
        names = ", ".join(c.name for c in cfgs)
        raise ValueError(f"configs {names}: must share the seeds and lr grid (got {sorted(grids)})")
    ((n_seeds, lrs),) = grids
    return Sizes(
        delays=tuple(settings.delay_steps(c) for c in cfgs),
        n_seeds=n_seeds,
        lrs=lrs,
        epochs=tuple(c.training.epochs for c in cfgs),
        chunks=tuple(c.training.chunk for c in cfgs),
    )


def epochs_for(delay: int, epochs_at_20: int) -> int:
    """The rule the shipped ``fig9_T*`` configs follow: ``epochs_at_20 · max(1, (T/20)²)``."""
    return int(epochs_at_20 * max(1.0, (delay / 20.0) ** 2))


def critical_from_fraction(lrs, frac, level: float = HALF) -> Critical:
    """η_c of a fraction-learned curve: `ghostmech.training.detect.critical_lr` by rule
    ``"falls_after_peak"`` (the first lr above the peak where the fraction is below
    ``level``), bracketed ``lo < η_c ≤ hi``, ``value = √(lo·hi)`` (NaN if none)."""
    return critical_lr(lrs, frac, level=level, rule="falls_after_peak")


def learned(final) -> np.ndarray:
    """Per network: final loss below `LEARNED` (`classify` == LEARNED; NaN: not learned)."""
    return classify(final, learned_below=LEARNED) == Outcome.LEARNED


def per_seed_critical(lrs, final) -> np.ndarray:
    """η_c of each seed ``[n_seeds]`` from final losses ``[n_lrs, n_seeds]``: the
    `critical_from_fraction` midpoint on that seed's 0/1 learned curve (NaN if none)."""
    ok = learned(final).astype(float)
    return np.asarray([critical_from_fraction(lrs, ok[:, s]).value for s in range(ok.shape[1])])


def fraction_learned(
    lrs, *, key: jax.Array, n_seeds: int, epochs: int, delay: int = 20, chunk: int = 10_000
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of ``n_seeds`` rank-one networks learned per lr ``[n_lrs]``, and final losses
    ``[n_lrs, n_seeds]``; the same initial networks at every lr, trained by the engine's
    rank-one kernel (`ghostmech.paper.fig3a.train_checkpointed`)."""
    lrs = np.asarray(lrs, float)
    m, n, b = rank1_init(jax.random.split(key, n_seeds))
    reps = [jnp.tile(a, (lrs.size, 1)) for a in (m, n, b)]
    lr = jnp.repeat(jnp.asarray(lrs, jnp.float32), n_seeds)
    _, met = train_checkpointed(reps, lr, epochs, (), chunk=min(epochs, chunk), delay=delay)
    final = met["loss"][:, -1].reshape(lrs.size, n_seeds)
    return learned(final).mean(axis=1), final


def fit_exponent(delays, etas) -> float:
    """Least-squares slope of log η_c against log T over the finite η_c (NaN if < 2)."""
    d, e = np.asarray(delays, float), np.asarray(etas, float)
    ok = np.isfinite(e) & (e > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(d[ok]), np.log(e[ok]), 1)[0])


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Fraction learned against lr for every delay; η_c(T) and its exponent."""
    size = sizes(quick)
    grids, fracs, etas, per_seed = {}, {}, [], []
    lrs = np.logspace(*size.lrs)
    for T, epochs, chunk in zip(size.delays, size.epochs, size.chunks, strict=True):
        frac, final = fraction_learned(
            lrs,
            key=jax.random.fold_in(key, T),
            n_seeds=size.n_seeds,
            epochs=epochs,
            delay=T,
            chunk=chunk,
        )
        grids[f"T = {T}"], fracs[f"T = {T}"] = lrs, frac
        etas.append(critical_from_fraction(lrs, frac).value)
        per_seed.append(per_seed_critical(lrs, final))
    slope = fit_exponent(size.delays, etas)
    x = np.log(np.repeat(np.asarray(size.delays, float), size.n_seeds))
    fit = slope_ci(x, np.log(np.concatenate(per_seed)))
    found = [int(np.isfinite(p).sum()) for p in per_seed]
    measured = {f"eta_c_T{T}": e for T, e in zip(size.delays, etas, strict=True)}
    measured |= {
        f"seeds_with_eta_c_T{T}": f"{k}/{size.n_seeds}"
        for T, k in zip(size.delays, found, strict=True)
    }
    measured |= {
        "exponent": fit["slope"],
        "exponent_ci95": [round(fit["lo"], 3), round(fit["hi"], 3)],
        "exponent_points": fit["n"],
        "exponent_of_pooled_eta_c": slope,
        "canonical_exponent": CANONICAL_EXPONENT,
        "canonical_in_ci": bool(fit["lo"] <= CANONICAL_EXPONENT <= fit["hi"]),
    }
    enough = len(size.delays) >= 3 and all(2 * k >= size.n_seeds for k in found)
    claim = Claim(
        "critical_lr_vs_delay",
        "beyond the paper: the rank-one RNN's critical lr falls with the delay T; fitted "
        "exponent and its 95 % interval reported next to the canonical model's −4 (loss / T)",
        measured,
        verdict_of(enough and np.isfinite(fit["hi"]) and fit["hi"] < EXPONENT_MAX),
        f"≥ 3 delays, per-seed η_c found for ≥ half the seeds at each; least-squares slope of "
        f"log η_c on log T over (seed, T): 95 % t-interval below {EXPONENT_MAX:g}",
    )
    slope = fit["slope"]
    fig, axes = new_figure(1, 2)
    plot_fraction(grids, fracs, ax=axes[0])
    axes[1].loglog(size.delays, etas, "o-", color="k", label=f"measured, slope {slope:.2f}")
    ref = np.asarray(size.delays, float)
    if np.isfinite(etas[0]):
        axes[1].loglog(
            ref,
            etas[0] * (ref / ref[0]) ** CANONICAL_EXPONENT,
            "--",
            color="0.5",
            label="canonical T⁻⁴",
        )
    axes[1].set(xlabel="delay T (steps)", ylabel="critical lr η_c")
    axes[1].set_xticks(list(size.delays), labels=[str(T) for T in size.delays])
    axes[1].minorticks_off()
    axes[1].legend(frameon=False)
    for ax, letter in zip(axes, "AB", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "critical_delay")
    return FigureResult("fig9", [claim], files, quick=quick)
