"""Figure 3B: at a large learning rate the rank-one RNN is trapped by a saddle-node bifurcation.

Setting as Fig. 3A (SPEC §5) with SGD lr 0.02 for 6000 epochs. One step after
the loss starts to fall overshoots: two new fixed points appear (1 → 3; a
stable one below κ_θ catches κ), the output is confidently 0 (z ≪ 1 on every
step), and the gradient is numerically zero: a no-learning zone (SPEC §2).

Not every initialisation is trapped within 6000 epochs (some are still on
the plateau), so several seeds are trained and the first trapped one is
shown; the fraction trapped is a claim of its own. The gradient norm at the
end is recomputed in float64 (the float32 kernel rounds it to 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.networks import make_preset
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.paper.fig3a import (
    PRESET,
    as_network,
    count_fixed_points,
    draw_flows,
    latent_flow_1d,
    rank1_init,
    train_checkpointed,
)
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_curves
from ghostmech.tasks import DelayedActivation
from ghostmech.training.detect import Outcome, classify
from ghostmech.training.kernels import rank1_da_value_and_grad

__all__ = ["run", "Sizes", "QUICK", "FULL", "grad_norm_f64", "trial_output", "is_trapped"]

GRAD_MAX = 1e-12  # SPEC: "gradient norm ~1e-20"; we require < 1e-12 (float64)
Z_MAX = 1e-2  # "confidently 0": max_t z_t at the end
LOSS_TRAPPED = 0.9  # trapped: final L > 0.9 (L = R/T = 1 when z ≡ 0) ...
GRAD_TRAPPED = 1e-6  # ... and float32 |∇L| < 1e-6 (plateau |∇L| ≈ 1e-3)
FRACTION_MIN = 0.5  # at least half of the seeds trapped within 6000 epochs


@dataclass(frozen=True)
class Sizes:
    """Seeds trained and checkpoints per run (lr 0.02 and 6000 epochs in both modes)."""

    n_seeds: int
    n_checkpoints: int


QUICK = Sizes(n_seeds=6, n_checkpoints=20)
FULL = Sizes(n_seeds=20, n_checkpoints=600)
_CONFIG = settings.shipped("fig3b")  # lr and epochs of the shipped config (both modes)
LR, EPOCHS = float(_CONFIG.training.lr), _CONFIG.training.epochs


def grad_norm_f64(m, n, b) -> float:
    """‖∇L‖ over (m, n, b) at the given parameters, computed in float64."""
    with jax.enable_x64(True):
        args = (jnp.asarray(np.asarray(a, np.float64))[None] for a in (m, n, b))
        _, grads = rank1_da_value_and_grad(*args)
        return float(jnp.sqrt(sum(jnp.sum(g**2) for g in grads)))


def trial_output(m, n, b, *, template) -> np.ndarray:
    """z_t over one DA trial (T = 20 + 20) of the network with parameters ``m, n, b``."""
    inputs = DelayedActivation(20, 20).all_trials().inputs[:, 0, :]
    _, z = as_network(m, n, b, template=template)(inputs)
    return np.asarray(z)[:, 0]


def is_trapped(loss: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Per network: final loss > `LOSS_TRAPPED` and final |∇L| < `GRAD_TRAPPED` (``[nets]``)."""
    final = classify(
        loss[..., -1], grad[..., -1], trapped_above=LOSS_TRAPPED, grad_below=GRAD_TRAPPED
    )
    return final == Outcome.TRAPPED


def _claims(counts: dict[int, int], z, gnorm64, trapped, loss) -> list[Claim]:
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
    zero = Claim(
        "confident_zero_output_no_gradient",
        "the output is confidently 0 and |∇L| ≈ 0 (no-learning zone), at a high loss",
        {"max_z": float(z.max()), "grad_norm_f64": gnorm64, "final_loss": float(loss[-1])},
        verdict_all(
            [
                verdict_of(z.max() < Z_MAX),
                verdict_of(gnorm64 < GRAD_MAX),
                verdict_of(loss[-1] > LOSS_TRAPPED),
            ]
        ),
        f"max_t z < {Z_MAX:g}; float64 |∇L| < {GRAD_MAX:g}; final L > {LOSS_TRAPPED}",
    )
    frac = Claim(
        "most_seeds_trapped",
        "lr 0.02 traps most initialisations within 6000 epochs",
        {"trapped": int(trapped.sum()), "seeds": int(trapped.size)},
        verdict_of(trapped.mean() >= FRACTION_MIN),
        f"fraction trapped (final L > {LOSS_TRAPPED}, |∇L| < {GRAD_TRAPPED:g}) ≥ {FRACTION_MIN}",
    )
    return [bif, zero, frac]


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Train ``n_seeds`` rank-one networks at lr 0.02; measure and draw the first trapped one."""
    size = QUICK if quick else FULL
    keys = jax.random.split(key, size.n_seeds)
    every = EPOCHS // size.n_checkpoints
    ckpts = list(range(0, EPOCHS + 1, every))
    saved, met = train_checkpointed(rank1_init(keys), LR, EPOCHS, ckpts, chunk=every)
    trapped = is_trapped(met["loss"], met["grad_norm"])
    i = int(np.argmax(trapped))  # first trapped seed (seed 0 if none)
    template = make_preset(PRESET, key=keys[i])
    at = {e: tuple(a[i] for a in saved[e]) for e in ckpts}
    counts = {e: count_fixed_points(*at[e]) for e in ckpts}
    z = trial_output(*at[EPOCHS], template=template)
    loss, grad = met["loss"][i], met["grad_norm"][i]
    claims = _claims(counts, z, grad_norm_f64(*at[EPOCHS]), trapped, loss)

    change = next((e for e in ckpts if counts[e] != 1), EPOCHS)
    before = max(e for e in ckpts if e < change) if change > 0 else 0
    fig, axes = new_figure(1, 5)
    epochs = np.arange(EPOCHS)
    plot_curves(epochs, {"loss": loss}, ax=axes[0], ylabel="loss L", marks=[change])
    plot_curves(epochs, {"|∇L|": np.maximum(grad, 1e-30)}, ax=axes[1], ylabel="gradient norm")
    draw_flows(
        axes[2:4], [(e, latent_flow_1d(*at[e], template=template)) for e in (before, EPOCHS)]
    )
    axes[4].plot(np.arange(1, z.size + 1), z, color="k")
    axes[4].axvline(20.5, color="0.6", ls="--", lw=0.8)
    axes[4].set(xlabel="step", ylabel="output z", ylim=(-0.05, 1.05), title="trapped output")
    for ax, letter in zip(axes, "ABCDE", strict=True):
        label_panel(ax, letter)
    files = save_figure(fig, Path(out) / "fig3b")
    return FigureResult("fig3b", claims, files, quick=quick)
