"""Figure 3B: at a large learning rate the rank-one RNN is trapped by a saddle-node bifurcation.

Setting as Fig. 3A (docs/model.md §4) with SGD lr 0.02 for 6000 epochs. One step after
the loss starts to fall overshoots: two new fixed points appear (1 → 3; a
stable one below κ_θ catches κ), the output is confidently 0 (z ≪ 1 on every
step), and the gradient is numerically zero: a no-learning zone (docs/theory.md).

Not every initialisation is trapped within 6000 epochs (some are still on
the plateau), so several seeds are trained and the first trapped one is
shown. The gradient norm at the end is recomputed in float64 (the float32
kernel rounds it to 0).

How often lr 0.02 traps is a claim of its own, stated against the theory
(Eq. 23): 0.02 lies above the rank-one network's critical lr at T = 20
(η_c ≈ 0.013, Fig. 9 full run in docs/reproduction.md) and Fig. 3A's lr 0.003
below it, so the same initial networks are trained at both lrs and the claim
is that lr 0.02 traps more of them: one-sided Fisher exact test at α = 0.05,
fractions with 95 % Clopper–Pearson intervals (`ghostmech.stats`).
An earlier rule, "≥ half of the seeds trapped", was not a claim of the paper
and does not hold: a 40-seed pilot trapped 18/40 = 0.45 (95 % CI 0.29–0.62)
within 6000 epochs; most of the rest are still on the plateau.

Quick size, by power (`stats.fisher_power`): at the design effect ½ trapped
above η_c ("most but not all starts", the canonical model just above η_c)
against 5 % below it, 24 seeds per lr give power 0.98 (12 seeds: 0.75).

The output/gradient claim is judged on every trapped network, not only on
the one shown: which seed is trapped first depends on the CPU's rounding, and
the trapped networks' float64 gradients spread widely (40-seed pilot: 16 of
18 below 1e-12, one at 1e-10, one at 3e-7; under SSE4_2 rounding the first
trapped network of CLI seed 0 had 4.4e-9, failing the old one-network
verdict). It passes when most trapped networks (one-sided exact binomial,
H₀: p ≤ ½) have max_t z < ``Z_MAX``, float64 ‖∇L‖ < ``GRAD_MAX`` and L > 0.9.
At quick size this is not decisive: the matrix runs found 12/14, 9/13 and
8/12 such networks (p = 0.006, 0.13, 0.19), i.e. a true fraction near 0.75,
where 13 networks give power ≈ 0.6. So the quick verdict is ``not-run``
(numbers and test still reported) and the claim is decided at full size
(100 seeds, ≈ 55 trapped: power ≈ 0.97 at 0.75).

Sizes (`sizes`): the preset, task timings, the two lrs (``grid.lr = [0.02,
0.003]``: the trapping lr first, the comparison second), seeds, epochs, chunk and
checkpoint spacing of both modes come from the shipped config ``fig3b``
(``fig3b.quick.toml`` / ``fig3b.full.toml``, the power calculation next to the
quick values): ``ghostmech sweep fig3b --quick`` trains this figure's networks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.networks import make_preset
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_of
from ghostmech.paper.fig3a import (
    as_network,
    count_fixed_points,
    draw_flows,
    latent_flow_1d,
    rank1_init,
    train_checkpointed,
)
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves
from ghostmech.stats import ALPHA, binomial_greater, fisher_greater, fraction_fields
from ghostmech.tasks import DelayedActivation
from ghostmech.training.detect import Outcome, classify
from ghostmech.training.kernels import rank1_da_value_and_grad

__all__ = ["run", "Sizes", "CONFIG", "sizes", "grad_norm_f64", "trial_output", "is_trapped"]

GRAD_MAX = 1e-12  # the paper: "gradient norm ~1e-20"; we require < 1e-12 (float64)
Z_MAX = 1e-2  # "confidently 0": max_t z_t at the end
LOSS_TRAPPED = 0.9  # trapped: final L > 0.9 (L = R/T = 1 when z ≡ 0) ...
GRAD_TRAPPED = 1e-6  # ... and float32 |∇L| < 1e-6 (plateau |∇L| ≈ 1e-3)


@dataclass(frozen=True)
class Sizes:
    """One mode: preset, delay = response (steps), the trapping lr and the comparison lr
    below the critical lr (Fig. 3A's), seeds (each trained at both lrs), epochs, chunk and
    checkpoint spacing."""

    preset: str
    delay: int
    lr: float
    lr_below: float
    n_seeds: int
    epochs: int
    chunk: int
    every: int


CONFIG = "fig3b"  # the shipped config (quick and full variants) this figure trains


def sizes(quick: bool, config: str = CONFIG) -> Sizes:
    """The sizes of the shipped config ``config`` (quick or full variant); its ``grid.lr``
    must hold two lrs, the trapping one first (power: the quick TOML and the docstring)."""
    cfg = settings.shipped(config, quick=quick)
    lrs = settings.lr_values(cfg)
    settings.require_rank1_da(cfg)
    if len(lrs) != 2 or not lrs[0] > lrs[1]:
        raise ValueError(f"config {cfg.name!r}: grid.lr (={list(lrs)}) must be [trapping lr, "
                         "a smaller comparison lr]")  # fmt: skip
    return Sizes(
        preset=cfg.network.preset,
        delay=settings.delay_steps(cfg),
        lr=lrs[0],
        lr_below=lrs[1],
        n_seeds=settings.n_seeds(cfg),
        epochs=cfg.training.epochs,
        chunk=cfg.training.chunk,
        every=settings.checkpoint_every(cfg),
    )


def grad_norm_f64(m, n, b, *, delay: int = 20) -> float:
    """‖∇L‖ over (m, n, b) at the given parameters (DA, T = ``delay`` + ``delay``), float64."""
    with jax.enable_x64(True):
        args = (jnp.asarray(np.asarray(a, np.float64))[None] for a in (m, n, b))
        _, grads = rank1_da_value_and_grad(*args, delay=delay, response=delay)
        return float(jnp.sqrt(sum(jnp.sum(g**2) for g in grads)))


def trial_output(m, n, b, *, template, delay: int = 20) -> np.ndarray:
    """z_t over one DA trial (T = ``delay`` + ``delay``) of the network ``m, n, b``."""
    inputs = DelayedActivation(delay, delay).all_trials().inputs[:, 0, :]
    _, z = as_network(m, n, b, template=template)(inputs)
    return np.asarray(z)[:, 0]


def is_trapped(loss: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Per network: final loss > `LOSS_TRAPPED` and final |∇L| < `GRAD_TRAPPED` (``[nets]``)."""
    final = classify(
        loss[..., -1], grad[..., -1], trapped_above=LOSS_TRAPPED, grad_below=GRAD_TRAPPED
    )
    return final == Outcome.TRAPPED


def _claims(
    counts: dict[int, int], z, gnorm64, trapped, loss, trapped_below, zero_ok, quick=False,
    size: Sizes | None = None,
) -> list[Claim]:  # fmt: skip
    size = size or sizes(quick)
    seq = [counts[e] for e in sorted(counts)]
    first3 = next((i for i, c in enumerate(seq) if c == 3), -1)
    epochs = sorted(counts)
    bif = Claim(
        "saddle_node_bifurcation",
        "the number of fixed points goes 1 → 3 during training (saddle-node bifurcation)",
        {
            "count_start": seq[0],
            "count_end": seq[-1],
            "first_epoch_with_3": epochs[first3] if first3 >= 0 else -1,
        },
        verdict_of(seq[0] == 1 and seq[-1] == 3 and first3 >= 0 and set(seq[first3:]) == {3}),
        "1 fixed point at epoch 0; 3 from some checkpoint to the end",
    )
    ok = np.asarray(zero_ok, bool)
    k_ok, n_ok = int(ok.sum()), int(ok.size)
    p_zero = binomial_greater(k_ok, n_ok, 0.5)
    zero = Claim(
        "confident_zero_output_no_gradient",
        "trapped networks output a confident 0 and |∇L| ≈ 0 (no-learning zone), at a high loss",
        {
            "max_z": float(z.max()),
            "grad_norm_f64": gnorm64,
            "final_loss": float(loss[-1]),
            **fraction_fields("trapped_with_zero_output_and_gradient", k_ok, n_ok),
            "p_binomial": p_zero,
        },
        "not-run" if quick else verdict_of(p_zero <= ALPHA),
        f"per trapped network: max_t z < {Z_MAX:g}, float64 |∇L| < {GRAD_MAX:g}, final L > "
        f"{LOSS_TRAPPED}; most trapped networks (one-sided exact binomial, H₀: p ≤ ½, "
        f"p ≤ {ALPHA:g}); the shown (first trapped) network's values reported"
        + (
            "; decided at full size only (quick is not decisive, module docstring)" if quick else ""
        ),
    )
    k_hi, k_lo, n = int(trapped.sum()), int(trapped_below.sum()), int(trapped.size)
    p = fisher_greater(k_hi, n, k_lo, int(trapped_below.size))
    frac = Claim(
        "trapped_above_critical_lr",
        f"lr {size.lr:g} (above the critical lr) traps initialisations within {size.epochs} "
        f"epochs that lr {size.lr_below:g} (below it) does not trap",
        {
            **fraction_fields(f"trapped_lr_{size.lr:g}", k_hi, n),
            **fraction_fields(f"trapped_lr_{size.lr_below:g}", k_lo, int(trapped_below.size)),
            "p_fisher": p,
        },
        verdict_of(p <= ALPHA),
        f"trapped = final L > {LOSS_TRAPPED} and |∇L| < {GRAD_TRAPPED:g}; same initial networks "
        f"at both lrs; one-sided Fisher exact test, trapped({size.lr:g}) > "
        f"trapped({size.lr_below:g}), "
        f"p ≤ {ALPHA:g}; 95 % Clopper–Pearson intervals",
    )
    return [bif, zero, frac]


def _zero_and_flat(params, key, final_loss, size: Sizes) -> bool:
    """One trapped network: max_t z < `Z_MAX`, float64 ‖∇L‖ < `GRAD_MAX`, final L > 0.9."""
    z = trial_output(*params, template=make_preset(size.preset, key=key), delay=size.delay)
    high = classify(final_loss, trapped_above=LOSS_TRAPPED) == Outcome.TRAPPED
    flat = grad_norm_f64(*params, delay=size.delay) < GRAD_MAX
    return bool(z.max() < Z_MAX and flat and high)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Train ``n_seeds`` rank-one networks at lr 0.02; measure and draw the first trapped one."""
    size = sizes(quick)
    last = size.epochs
    keys = jax.random.split(key, size.n_seeds)
    ckpts = list(range(0, last + 1, size.every))
    # the same networks at lr 0.02 (first half) and at size.lr_below (second half), one program
    params = tuple(jnp.concatenate([a, a]) for a in rank1_init(keys, size.preset))
    lrs = np.repeat([size.lr, size.lr_below], size.n_seeds)
    both, met2 = train_checkpointed(params, lrs, last, ckpts, chunk=size.chunk,
                                    preset=size.preset, delay=size.delay)  # fmt: skip
    half = slice(0, size.n_seeds)
    saved = {e: tuple(a[half] for a in v) for e, v in both.items()}
    met = {k: v[half] for k, v in met2.items() if k != "status"}
    trapped = is_trapped(met["loss"], met["grad_norm"])
    trapped_below = is_trapped(met2["loss"][size.n_seeds :], met2["grad_norm"][size.n_seeds :])
    i = int(np.argmax(trapped))  # first trapped seed (seed 0 if none)
    template = make_preset(size.preset, key=keys[i])
    at = {e: tuple(a[i] for a in saved[e]) for e in ckpts}
    counts = {e: count_fixed_points(*at[e]) for e in ckpts}
    z = trial_output(*at[last], template=template, delay=size.delay)
    loss, grad = met["loss"][i], met["grad_norm"][i]
    zero_ok = [
        _zero_and_flat(tuple(a[j] for a in saved[last]), keys[j], met["loss"][j, -1], size)
        for j in np.flatnonzero(trapped)
    ]
    gnorm64 = grad_norm_f64(*at[last], delay=size.delay)
    claims = _claims(counts, z, gnorm64, trapped, loss, trapped_below, zero_ok, quick, size)

    change = next((e for e in ckpts if counts[e] != 1), last)
    before = max(e for e in ckpts if e < change) if change > 0 else 0
    fig, axes = new_figure(1, 5)
    epochs = np.arange(last)
    plot_curves(epochs, {"loss": loss}, ax=axes[0], ylabel="loss L", marks=[change])
    plot_curves(epochs, {"|∇L|": np.maximum(grad, 1e-30)}, ax=axes[1], ylabel="gradient norm")
    draw_flows(axes[2:4], [(e, latent_flow_1d(*at[e], template=template)) for e in (before, last)])
    axes[4].plot(np.arange(1, z.size + 1), z, color="k")
    axes[4].axvline(size.delay + 0.5, color="0.6", ls="--", lw=0.8)
    axes[4].set(xlabel="step", ylabel="output z", ylim=(-0.05, 1.05), title="trapped output")
    for ax, letter in zip(axes, "ABCDE", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "fig3b")
    return FigureResult("fig3b", claims, files, quick=quick)
