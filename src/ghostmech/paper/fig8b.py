"""Figure 8B: lowering the output confidence β rescues trapped rank-one networks (and beyond).

Paper's protocol (docs/model.md §4, 8B): rank-one DA networks (Fig. 3A setting), SGD
lr 0.02: 6000 epochs at β = 10, then 100 epochs at β ∈ logspace(−3, 1, 30);
100 seeds. The second phase is one program over (trapped seed × β): β is
per-network data (:func:`ghostmech.training.rescue.train_rank1_da_rescue`).

Trapped (after phase 1): L > 0.9 and float32 ‖∇L‖ < 1e-6 (Fig. 3B's rule,
`ghostmech.training.detect.classify` with Fig. 3B's thresholds; the epoch from which
a curve stays trapped: `ghostmech.training.detect.trapped_from`).
Rescued: after the 100 low-β epochs, evaluated back at β = 10, the network
is no longer trapped. Claim: the fraction rescued is high at intermediate β
and low at both ends (β = 10 is no intervention; β → 0 leaves no gradient).

Beyond the paper: the automatic rule of :mod:`ghostmech.training.rescue`
(β → 0.3 for 100 epochs whenever ‖∇L‖ < 1e-6·max ‖∇L‖ at L > 0.5) on the same
seeds, trained in the same program as phase 1 and for the same epochs (so it
gets no extra 100 epochs), against the manual intervention at the best β:
the share of low-β episodes after which the network is not trapped at once
(manual: the fraction rescued), and epochs lost per network (manual: from entering the trap until the end of the
low-β phase; automatic: epochs at low β plus one detection epoch per rescue).

Quick mode uses lr 0.06 and 2000 phase-1 epochs (the networks are trapped
about three times sooner than at lr 0.02), 24 seeds and 9 β values. Both sizes
are read from the shipped config ``fig8b`` (`sizes`; quick / full variant).

The paper's claim is decided by two one-sided Fisher exact tests on the
trapped networks (`ghostmech.stats`), each at α/n_β (Bonferroni: the
best β is picked from the grid): the best β rescues more than β = 10 (no
intervention) and more than the smallest β. Fractions carry 95 %
Clopper–Pearson intervals. Quick size, by power (`stats.fisher_power`): at the
design effect (best β rescues ``PEAK_MIN`` = 0.8, the ends 0.1), 10 trapped
networks give power 0.68 at 0.05/9, 18 give 0.97: hence 24 seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.paper.fig3a import rank1_init
from ghostmech.paper.fig3b import GRAD_TRAPPED, LOSS_TRAPPED
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves, plot_fraction
from ghostmech.stats import ALPHA, fisher_greater, fraction_fields
from ghostmech.training.detect import Outcome, classify, trapped_from
from ghostmech.training.kernels import rank1_da_value_and_grad
from ghostmech.training.rescue import Rescue, train_rank1_da_rescue

__all__ = ["run", "Sizes", "CONFIG", "sizes", "trapped_at_beta", "episode_success", "AUTO"]

BETA, RESCUE_EPOCHS = 10.0, 100
PEAK_MIN = 0.8  # design effect of the power calculation: the best β rescues 80 %
AUTO_MARGIN = 0.2  # the automatic rule uses β = 0.3, not the best β of the grid
AUTO = Rescue(low=0.3, epochs=RESCUE_EPOCHS, grad_ratio=1e-6, loss_min=0.5)


@dataclass(frozen=True)
class Sizes:
    """Seeds, the number of β values in logspace(−3, 1, n_betas), lr and phase-1 epochs."""

    n_seeds: int
    n_betas: int
    lr: float
    epochs: int


CONFIG = "fig8b"  # the shipped config (quick and full variants) this figure trains
BETA_GRID = (-3.0, 1.0)  # phase 2: β ∈ logspace(−3, 1, n_betas) (docs/model.md §4, 8B)


def sizes(quick: bool) -> Sizes:
    """The sizes of the shipped config ``fig8b`` (quick or full variant): seeds, the number
    of ``grid.axes.beta_after`` values, lr and the phase-1 epochs (the intervention's
    epoch; the config trains ``RESCUE_EPOCHS`` more at low β)."""
    cfg = settings.shipped(CONFIG, quick=quick)
    lo, hi, n_betas = settings.axis_logspace(cfg, "beta_after")
    epochs = settings.phase_epoch(cfg)
    if (lo, hi) != BETA_GRID or cfg.training.epochs != epochs + RESCUE_EPOCHS:
        raise ValueError(f"config {CONFIG!r}: beta_after must span logspace{BETA_GRID} and "
                         f"training.epochs = {epochs} + {RESCUE_EPOCHS}")  # fmt: skip
    return Sizes(n_seeds=settings.n_seeds(cfg), n_betas=n_betas, lr=float(cfg.training.lr),
                 epochs=epochs)  # fmt: skip


_value_and_grad = jax.jit(rank1_da_value_and_grad, static_argnames=("delay", "response"))


def _trapped(loss, grad) -> np.ndarray:
    """Fig. 3B's rule through `classify`: L > `LOSS_TRAPPED` and ‖∇L‖ < `GRAD_TRAPPED`."""
    code = classify(loss, grad, trapped_above=LOSS_TRAPPED, grad_below=GRAD_TRAPPED)
    return code == Outcome.TRAPPED


def trapped_at_beta(params: dict, beta: float = BETA) -> np.ndarray:
    """Per network ``[nets]``: at confidence ``beta``, L > 0.9 and ‖∇L‖ < 1e-6 (float32)."""
    loss, grads = _value_and_grad(*(jnp.asarray(params[k]) for k in "mnb"), beta=beta)
    gn = np.sqrt(sum((np.asarray(g) ** 2).sum(-1) for g in grads))
    return _trapped(np.asarray(loss), gn)


def _first_trapped(loss: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """First epoch from which a curve stays trapped to its end (−1: not trapped at the end)."""
    return trapped_from(_trapped(loss, grad))


def _manual(params, idx, betas, lr):
    """Phase 2 for every (trapped seed, β): rescued fraction per β ``[n_betas]``."""
    reps = {k: np.repeat(params[k][idx], betas.size, 0) for k in "mnb"}
    beta = np.tile(betas, idx.size)
    res = train_rank1_da_rescue(*(reps[k] for k in "mnb"), lr, beta=beta, epochs=RESCUE_EPOCHS)
    still = trapped_at_beta(res.params).reshape(idx.size, betas.size)
    return 1.0 - still.mean(axis=0)


def _claims(betas, rescued, n_trapped, auto: dict) -> list[Claim]:
    count = np.rint(np.asarray(rescued) * n_trapped).astype(int)
    best = int(np.argmax(count))
    alpha = ALPHA / len(betas)
    p_hi = fisher_greater(int(count[best]), n_trapped, int(count[-1]), n_trapped)
    p_lo = fisher_greater(int(count[best]), n_trapped, int(count[0]), n_trapped)
    paper = Claim(
        "lower_beta_rescues_non_monotone",
        "lowering β rescues trapped networks; too low a β stops learning again",
        {
            "trapped_after_6000": n_trapped,
            "best_beta": float(betas[best]),
            **fraction_fields("rescued_at_best", int(count[best]), n_trapped),
            **fraction_fields("rescued_at_smallest_beta", int(count[0]), n_trapped),
            **fraction_fields("rescued_at_beta_10", int(count[-1]), n_trapped),
            "p_best_vs_beta_10": p_hi,
            "p_best_vs_smallest_beta": p_lo,
        },
        verdict_all([verdict_of(p_hi <= alpha), verdict_of(p_lo <= alpha)]),
        "among the trapped networks: one-sided Fisher exact tests, best β > β = 10 and best "
        f"β > β = 1e-3, each p ≤ {alpha:.3g} (α = {ALPHA:g}, Bonferroni over {len(betas)} β); "
        "95 % Clopper–Pearson intervals",
    )
    beyond = Claim(
        "auto_rescue_beyond_paper",
        "beyond the paper: each automatic low-β episode escapes the trap about as often as "
        "the best manual β, and fewer epochs are lost",
        auto,
        verdict_of(
            auto["auto_episodes"] >= 3
            and auto["auto_episode_success"] >= auto["manual_best_success"] - AUTO_MARGIN
            and auto["auto_epochs_lost"] < auto["manual_epochs_lost"]
        ),
        f"≥ 3 episodes; episode success ≥ manual best − {AUTO_MARGIN}; mean epochs lost smaller",
    )
    return [paper, beyond]


def _split(res, nets: int) -> tuple[dict, dict, list, dict, dict]:
    """The plain (first ``nets``) and the auto-rescued (last ``nets``) halves of one run."""
    half = [slice(0, nets), slice(nets, 2 * nets)]
    params = [{k: v[h] for k, v in res.params.items()} for h in half]
    metrics = [{k: v[h] for k, v in res.metrics.items()} for h in half]
    return params[0], metrics[0], res.starts[nets:], params[1], metrics[1]


def episode_success(starts: list[list[int]], epochs: int, k: int = RESCUE_EPOCHS) -> np.ndarray:
    """Per finished rescue episode: 1 if the network was not trapped again at once.

    Rescuing starts at epoch s and runs to s + k − 1; if the network is still
    trapped at β = 10 on epoch s + k, the rule fires again there and the next
    episode starts at s + k + 1. Episodes ending within one epoch of the run's
    end are left out.
    """
    out = []
    for row in starts:
        for j, s in enumerate(row):
            if s + k + 1 >= epochs:
                continue
            nxt = row[j + 1] if j + 1 < len(row) else None
            out.append(0.0 if nxt == s + k + 1 else 1.0)
    return np.asarray(out)


def _auto(starts, params, metrics, trapped_from, epochs, best_rescued) -> dict:
    hit = np.asarray([len(s) > 0 for s in starts])
    lost_auto = metrics["rescuing"].sum(-1) + np.asarray([len(s) for s in starts])
    was = trapped_from >= 0
    lost_manual = (epochs - trapped_from[was]) + RESCUE_EPOCHS
    success = episode_success(starts, epochs)
    return {
        "auto_rescued_networks": int(hit.sum()),
        "auto_episodes": int(success.size),
        "auto_episode_success": float(success.mean()) if success.size else float("nan"),
        **fraction_fields("auto_episodes_escaped", int(success.sum()), int(success.size)),
        "manual_best_success": best_rescued,
        "auto_not_trapped_end": float((~trapped_at_beta(params))[hit].mean())
        if hit.any()
        else float("nan"),
        "auto_epochs_lost": float(lost_auto[hit].mean()) if hit.any() else float("nan"),
        "manual_epochs_lost": float(lost_manual.mean()) if was.any() else float("nan"),
    }


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Phase 1 (β = 10), the β grid for the trapped seeds, and the automatic rule."""
    size = sizes(quick)
    nets = size.n_seeds
    params0 = [jnp.concatenate([a, a]) for a in rank1_init(jax.random.split(key, nets))]
    both = train_rank1_da_rescue(
        *params0,
        size.lr,
        beta=np.full(2 * nets, BETA),
        epochs=size.epochs,
        rescue=AUTO,
        rescue_mask=np.arange(2 * nets) >= nets,
    )
    params1, metrics1, starts, params_auto, metrics_auto = _split(both, nets)
    trapped_from = _first_trapped(metrics1["loss"], metrics1["grad_norm"])
    idx = np.flatnonzero(trapped_at_beta(params1))
    betas = np.logspace(*BETA_GRID, size.n_betas)
    rescued = _manual(params1, idx, betas, size.lr) if idx.size else np.zeros(betas.size)
    auto = _auto(starts, params_auto, metrics_auto, trapped_from, size.epochs, float(rescued.max()))
    claims = _claims(betas, rescued, int(idx.size), auto)

    fig, axes = new_figure(1, 3)
    epochs = np.arange(size.epochs)
    plot_curves(
        epochs, {"β = 10": metrics1["loss"][idx[:10]]}, ax=axes[0], title="phase 1: trapped seeds"
    )
    plot_fraction(
        betas,
        {"rescued": rescued},
        ax=axes[1],
        xlabel="β during 100 epochs",
        ylabel="fraction rescued",
        marks={"β = 10 (phase 1)": BETA},
    )
    plot_curves(
        epochs,
        {"auto rescue": metrics_auto["loss"][:10]},
        ax=axes[2],
        title="automatic rescue (beyond)",
    )
    for ax, letter in zip(axes, "ABC", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "fig8b")
    return FigureResult("fig8b", claims, files, quick=quick)
