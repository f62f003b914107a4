"""Figure 6B: networks with more trainable ranks learn in fewer epochs and are trapped less.

Paper (docs/model.md §4, 6B): DA T = 20, rank K ∈ {1, 2, 3, 4, 5, 10, 30, 50, 100}
(W = M Nᵀ, M, N ~ N(0, 1/N), b = 0, r₀ = −0.3, trainable sigmoid readout
Eq. 48: preset ``fig6b``), lr = logspace(−3, 0, 10), 10 seeds, 500,000 epochs.
One vmapped `ghostmech.training.sweep` per rank (shapes differ between ranks).

Per rank, over all (lr, seed): *learned* = final L < 0.1, epochs to learn =
first epoch with L < 0.1, *trapped* = final L ≥ 0.9 (L = 1 when z ≡ 0;
`ghostmech.training.detect.classify`).
Claims, each a one-sided test at α = 0.05 (`ghostmech.stats`) between
the smallest and the largest rank over all (lr, seed): the epochs to learn
(a network that never learned counts as the whole budget) are smaller for the
largest rank (Mann–Whitney U), and the fraction trapped is larger for rank one
(Fisher exact test), fractions with 95 % Clopper–Pearson intervals.
Quick: T = 10, K ∈ {1, 100}, lr ∈ logspace(−1.5, 0, 4), 6 seeds, 800 epochs.
Both sizes are read from the shipped config ``fig6b`` (`sizes`; quick / full).
Quick size, by power (`stats.fisher_power`): at the design effect of rank one
trapped at half the (lr, seed) pairs (the lrs above its η_c ≈ 0.05 at T = 10,
Fig. 9 pilot, are 3 of the 4) and rank 100 at 5 %, 6 seeds (24 networks per
rank) give power 0.98 (2 seeds: 0.37).

The quick run does not show that effect: CLI seed 0 trapped rank one 8/24
(0.16–0.55) and rank 100 5/24 (0.07–0.42), Fisher p = 0.26 (at T = 10 and 800
epochs rank 100 is trapped at lr 1 too, and "final L > 0.9" also counts
networks still on their plateau). The trapped claim is therefore decided at
full size only (quick verdict ``not-run``, numbers and test still reported);
"learn faster" is decided at both sizes.

Full size with fewer seeds (`trapped_decided`): a sweep with the paper's delay, epochs,
lr grid and end ranks (1, 100) but fewer than 10 seeds still decides the trapped claim when
its networks per rank give power ≥ 0.8 at the design effect `TRAPPED_DESIGN`: rank one
trapped at 0.38 (its fraction at full size over seeds 0–9, measured on ranks 1–10 before
rank 100 trained, docs/results/fig6b/partial.json) and rank 100 at 5 % (the design above).
Power (`stats.fisher_power`) at 10 lrs × s seeds per rank: s = 2: 0.77, s = 3: 0.92,
s = 5: 0.99, s = 10: 1.00; so 3 seeds or more decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import jax
import numpy as np

from ghostmech.networks import make_preset
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_of
from ghostmech.paper.critical_delay import learned
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_band, plot_fraction
from ghostmech.runs import Run
from ghostmech.runs.progress import finished_parts
from ghostmech.stats import ALPHA, fisher_greater, fisher_power, fraction_fields, rank_sum_less
from ghostmech.tasks import DelayedActivation
from ghostmech.training import sweep
from ghostmech.training.detect import TRAPPED_ABOVE, Outcome, classify

__all__ = [
    "run",
    "run_from_sweep",
    "check_split",
    "sweep_losses",
    "Sizes",
    "CONFIG",
    "sizes",
    "sizes_of",
    "epochs_to_learn",
    "rank_stats",
    "train_rank",
    "trapped_decided",
    "TRAPPED_DESIGN",
    "DECISIVE_POWER",
]


@dataclass(frozen=True)
class Sizes:
    """Ranks, lr grid (log10 start, stop, count), seeds, epochs, delay."""

    ranks: tuple[int, ...]
    lrs: tuple[float, float, int]
    n_seeds: int
    epochs: int
    delay: int


CONFIG = "fig6b"  # the shipped config (quick and full variants) this figure trains
TRAPPED_DESIGN = (0.38, 0.05)  # trapped fraction, rank one and rank 100 (module docstring)
DECISIVE_POWER = 0.8  # the conventional power a run needs to decide the trapped claim


def sizes(quick: bool) -> Sizes:
    """The sizes of the shipped ``fig6b`` config (quick or full variant): ``grid.rank``,
    the ``grid.lr`` log range, seeds, epochs and the delay (quick: power in the docstring)."""
    return sizes_of(settings.shipped(CONFIG, quick=quick))


def sizes_of(cfg) -> Sizes:
    """The sizes of an experiment config: ``grid.rank``, the ``grid.lr`` log range, seeds,
    epochs and the delay."""
    return Sizes(
        ranks=tuple(int(r) for r in cfg.grid.rank),
        lrs=settings.lr_logspace(cfg),
        n_seeds=settings.n_seeds(cfg),
        epochs=cfg.training.epochs,
        delay=settings.delay_steps(cfg),
    )


def trapped_decided(size: Sizes) -> bool:
    """Whether a run of ``size`` decides the trapped claim: the paper's delay, epochs, lr grid
    and end ranks, and enough networks per rank (n = lrs × seeds) that the one-sided Fisher
    test has power ≥ `DECISIVE_POWER` at `TRAPPED_DESIGN` (module docstring)."""
    paper = sizes(False)
    key = (size.delay, size.epochs, size.lrs, size.ranks[0], size.ranks[-1])
    if key != (paper.delay, paper.epochs, paper.lrs, paper.ranks[0], paper.ranks[-1]):
        return False
    n = size.lrs[2] * size.n_seeds
    return fisher_power(n, TRAPPED_DESIGN[0], n, TRAPPED_DESIGN[1]) >= DECISIVE_POWER


def epochs_to_learn(loss: np.ndarray) -> np.ndarray:
    """First epoch with L < `critical_delay.LEARNED` along the last axis (NaN where never): the
    first epoch `critical_delay.learned` (`detect.classify`) calls learned."""
    below = learned(loss)
    first = np.argmax(below, axis=-1).astype(float)
    return np.where(below.any(axis=-1), first, np.nan)


def train_rank(rank: int, lrs, seeds, size: Sizes) -> np.ndarray:
    """Losses ``[lr, seed, epoch]`` of the preset ``fig6b`` network at ``rank`` trained on
    delayed activation (delay = response = ``size.delay``) for ``size.epochs`` epochs, one
    network per (lr, seed) (`ghostmech.training.sweep`, chunks of ≤ 5,000 epochs)."""
    res = sweep(
        lambda k: make_preset("fig6b", key=k, rank=rank),
        DelayedActivation(size.delay, size.delay),
        lrs=list(lrs),
        seeds=seeds,
        epochs=size.epochs,
        chunk=min(size.epochs, 5000),
    )
    return res.metrics["loss"]  # [lr, seed, epoch]


def _claims(ranks, stats, quick: bool = False) -> list[Claim]:
    lo, hi = stats[ranks[0]], stats[ranks[-1]]
    e_lo, e_hi = lo["censored"].ravel(), hi["censored"].ravel()
    p_fast = rank_sum_less(e_hi, e_lo)
    faster = Claim(
        "more_ranks_learn_faster",
        "more trainable ranks learn in fewer epochs",
        {
            f"epochs_rank{ranks[0]}": float(e_lo.mean()),
            f"epochs_rank{ranks[-1]}": float(e_hi.mean()),
            # the test compares ranks, so the medians show its direction where the means,
            # pulled by networks that learned late or never, do not
            f"median_epochs_rank{ranks[0]}": float(np.median(e_lo)),
            f"median_epochs_rank{ranks[-1]}": float(np.median(e_hi)),
            "p_mann_whitney": p_fast,
        },
        verdict_of(p_fast <= ALPHA),
        "epochs to learn over lrs × seeds (never learned: the epoch budget): one-sided "
        f"Mann–Whitney U, largest rank < rank {ranks[0]}, p ≤ {ALPHA:g}",
    )
    t_lo, t_hi = lo["trapped"].ravel(), hi["trapped"].ravel()
    p_trap = fisher_greater(int(t_lo.sum()), t_lo.size, int(t_hi.sum()), t_hi.size)
    trapped = Claim(
        "more_ranks_trapped_less",
        "more trainable ranks are trapped less often",
        {
            **fraction_fields(f"trapped_rank{ranks[0]}", int(t_lo.sum()), t_lo.size),
            **fraction_fields(f"trapped_rank{ranks[-1]}", int(t_hi.sum()), t_hi.size),
            "p_fisher": p_trap,
        },
        "not-run" if quick else verdict_of(p_trap <= ALPHA),
        f"trapped = final L ≥ {TRAPPED_ABOVE} over lrs × seeds: one-sided Fisher exact test, rank "
        f"{ranks[0]} > largest rank, p ≤ {ALPHA:g}; 95 % Clopper–Pearson intervals"
        + ("; decided at full size only (quick cannot show it, module docstring)" if quick else ""),
    )
    return [faster, trapped]


def rank_stats(loss: np.ndarray, epochs: int) -> dict[str, np.ndarray]:
    """Per (lr, seed) of one rank's losses ``[lr, seed, epoch]``: ``epochs`` to learn
    (`epochs_to_learn`, NaN where never), their ``mean_epochs`` per lr (learned networks only),
    ``censored`` (never learned counts as the budget ``epochs``), ``trapped`` at the end."""
    ep = epochs_to_learn(loss)
    count = np.isfinite(ep).sum(1)
    mean = np.where(count > 0, np.nansum(ep, 1) / np.maximum(count, 1), np.nan)
    return {
        "epochs": ep,
        "mean_epochs": mean,
        "censored": np.where(np.isfinite(ep), ep, epochs),
        "trapped": classify(loss[..., -1]) == Outcome.TRAPPED,
    }


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """One sweep per rank; epochs to learn and fraction trapped per rank and lr."""
    size = sizes(quick)
    lrs = np.logspace(*size.lrs)
    seeds = [int(s) for s in jax.random.randint(key, (size.n_seeds,), 0, 2**31 - 1)]
    stats = {
        rank: rank_stats(train_rank(rank, lrs, seeds, size), size.epochs) for rank in size.ranks
    }
    return _figure(size.ranks, lrs, stats, out, quick)


def run_from_sweep(run: Run | Sequence[Run], out: Path, *, partial: bool = False) -> FigureResult:
    """Fig. 6B from a finished sweep of the config ``fig6b`` (``ghostmech sweep fig6b
    --full``; resumable across sittings, unlike ``reproduce``), or from several sweeps that
    split its seeds between them (``--set 'grid.seed=[5, 6, 7, 8, 9]'`` next to
    ``--set grid.seed=5``).

    Same rules and claims as `run`, on the sweeps' grid seeds instead of seeds drawn from a
    key. A network's key is its seed (`ghostmech.runs.factory`), so seeds split over runs
    train the networks one run of all the seeds trains; the runs must have the same config
    but for ``grid.seed``, and no seed twice. The trapped claim is decided only when
    `trapped_decided` (the paper's sizes, or fewer seeds that still have the power);
    otherwise it is ``not-run``, as at quick size.

    ``partial``: also accept unfinished runs whose smallest and largest ranks are finished
    (``ghostmech sweep --first 100`` trains rank 100 before the ranks between). Both claims
    compare only those two ranks, so they are the finished runs' claims; the panels show
    the ranks every run has finished.
    """
    runs = [run] if isinstance(run, Run) else list(run)
    check_split(runs)
    cfg = runs[0].config
    ranks = tuple(int(r) for r in cfg.grid.rank)
    ends = (ranks[0], ranks[-1])
    for r in runs:
        if r.status == "finished":
            continue
        if not partial:
            raise ValueError(f"`run` ({r.path}): the sweep has not finished; resume it first")
        done = finished_parts(r)
        ranks = tuple(k for k in ranks if str(k) in done)
        if not ranks or (ranks[0], ranks[-1]) != ends:
            raise ValueError(
                f"`run` ({r.path}): ranks {ends[0]} and {ends[1]}, which the claims compare, "
                "must both be finished; resume it first (--first puts a rank first)"
            )
    stats = {k: rank_stats(sweep_losses(runs, k), cfg.training.epochs) for k in ranks}
    n_seeds = sum(r.metrics.sizes["seed"] for r in runs)
    size = replace(sizes_of(cfg), n_seeds=int(n_seeds))
    return _figure(ranks, np.logspace(*size.lrs), stats, out, not trapped_decided(size))


def check_split(runs: Sequence[Run]) -> None:
    """Raise ``ValueError`` unless ``runs`` are sweeps of one config that split its seeds:
    the same config but for ``grid.seed``, and no seed in two of them."""
    if not runs:
        raise ValueError("`run`: give at least one sweep")
    first = _without_seeds(runs[0].config)
    for r in runs[1:]:
        if _without_seeds(r.config) != first:
            raise ValueError(
                f"`run` ({r.path}): its config differs from {runs[0].path}'s in more than grid.seed"
            )
    every = np.concatenate([np.asarray(r.metrics.seed.values) for r in runs])
    if np.unique(every).size != every.size:
        raise ValueError(
            f"`run`: a seed is in more than one sweep (seeds {sorted(every.tolist())})"
        )


def sweep_losses(runs: Sequence[Run], rank: int) -> np.ndarray:
    """Losses ``[lr, seed, epoch]`` of ``rank`` over sweeps that split the seeds
    (`check_split`), in seed order, as one sweep of all the seeds has them."""
    seeds = np.concatenate([np.asarray(r.metrics.seed.values) for r in runs])
    parts = [
        np.asarray(r.metrics.loss.sel(rank=rank).transpose("lr", "seed", "epoch").values)
        for r in runs
    ]
    return np.concatenate(parts, axis=1)[:, np.argsort(seeds, kind="stable")]


def _without_seeds(cfg) -> dict:
    """A config as a dict with its ``grid.seed`` left out (what split runs may differ in)."""
    d = cfg.model_dump(mode="json")
    d["grid"].pop("seed", None)
    return d


def _figure(ranks, lrs, stats, out: Path, quick: bool) -> FigureResult:
    """The two panels and the claims from each rank's `rank_stats`."""
    fig, axes = new_figure(1, 2)
    labels = {f"K = {k}": k for k in ranks}
    plot_band(lrs, {lab: stats[k]["mean_epochs"] for lab, k in labels.items()}, ax=axes[0])
    plot_fraction(
        lrs,
        {lab: stats[k]["trapped"].mean(1) for lab, k in labels.items()},
        ax=axes[1],
        ylabel="fraction trapped",
    )
    for ax, letter in zip(axes, "AB", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "fig6b")
    return FigureResult("fig6b", _claims(ranks, stats, quick), files, quick=quick)
