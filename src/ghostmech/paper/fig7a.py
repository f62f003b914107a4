"""Figure 7A–B: full-rank DMTS learning-rate sweep: a critical lr, and a no-learning zone
whose networks are trapped although their firing rates are NOT saturated.

Setting (SPEC §5, 7A–B): N = 100, full-rank W Xavier-uniform, b ~ U(−1, 1),
r₀ = 0, no noise, one trial per type, sigmoid readout (Eq. 38), DMTS
30/80/50 ms at Δt = 5 ms, SGD, lr = logspace(−3, 1, 20), 20 seeds, 20,000
epochs. Quick: N = 100, lr = logspace(−2, 1, 7), 3 seeds, 1000 epochs.

Per network (final epoch), with L₀ = Σ ŷ²/Σ 1 the loss of the constant output
z ≡ 0 (which the sigmoid readout reaches by saturating):

* learned: final loss ≤ ``LEARNED_LOSS``·L₀;
* trapped: final loss ≥ ``TRAP_LOSS``·L₀ and ‖∇L‖ < ``TRAP_GRAD`` (no-learning zone).

Saturation of a trapped network, over trials × steps × units of the noise-free
trials: mean tanh′(W r + W_in u + b) = mean (1 − tanh²), and the fraction of
rates with |r| > 0.99; its READOUT's saturation is the mean φ′ of the output
(sigmoid: z(1 − z)·4, tanh: 1 − z², both 1 at the centre).

The verdict uses the networks trapped AT the critical lr η_c (the first lr of
the trapped tail): that is where a no-learning zone is entered by a step just
too large. Far above η_c the steps themselves drive rates into saturation
(measured: at N = 100, DMTS, 2.6 % of rates have |r| > 0.99 at η_c, 30 % at
10 η_c), which the paper does not claim otherwise; the values over all trapped
networks are reported next to it. At N = 32 (an earlier quick size) even the
networks at η_c were partly saturated, so the quick run uses the paper's N.
The helpers (`lr_sweep`, `saturation`, `sweep_claims`, `draw_sweep`) are shared
with Fig. 7C–D (DCD).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.networks import PRESETS, make_preset, run_batch
from ghostmech.paper.claims import Claim, FigureResult, verdict_of
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_band, plot_fraction
from ghostmech.tasks import make_task
from ghostmech.training import sweep

__all__ = [
    "run",
    "Sizes",
    "QUICK",
    "FULL",
    "lr_sweep",
    "saturation",
    "sweep_claims",
    "draw_sweep",
    "critical_lr",
]

LEARNED_LOSS = 0.5  # learned: final loss ≤ 0.5·L₀
TRAP_LOSS = 0.9
TRAP_GRAD = 1e-3
MAJORITY = 0.5  # the critical lr: first lr from which ≥ half the seeds are trapped, to the end
LEARN_PEAK = 0.6  # some lr below it learns with ≥ 60 % of seeds
RATE_MIN = 0.2  # not saturated: trapped mean tanh′ ≥ 0.2 (saturated units have tanh′ → 0)
READOUT_RATIO_MAX = 0.1  # ... while the readout is: trapped mean φ′ ≤ 0.1 × trapped mean tanh′


@dataclass(frozen=True)
class Sizes:
    """Network size, the lr grid logspace(lo, hi, n_lrs), seeds, epochs."""

    n: int
    lr_lo: float
    lr_hi: float
    n_lrs: int
    n_seeds: int
    epochs: int

    @property
    def lrs(self) -> np.ndarray:
        return np.logspace(self.lr_lo, self.lr_hi, self.n_lrs)


QUICK = Sizes(n=100, lr_lo=-2, lr_hi=1, n_lrs=7, n_seeds=3, epochs=1000)
FULL = Sizes(n=100, lr_lo=-3, lr_hi=1, n_lrs=20, n_seeds=20, epochs=20_000)


def lr_sweep(preset: str, size: Sizes, *, seed0: int):
    """``(task, SweepResult)`` over ``size.lrs`` × seeds ``seed0 … seed0 + n_seeds − 1``."""
    task = make_task(**PRESETS[preset].task)
    res = sweep(
        lambda k: make_preset(preset, key=k, n=size.n),
        task,
        lrs=size.lrs,
        seeds=range(seed0, seed0 + size.n_seeds),
        epochs=size.epochs,
        chunk=min(size.epochs, 2000),
    )
    return task, res


@eqx.filter_jit
def _sat(net, inputs):
    """[mean tanh′(W r_t + W_in u_t + b), fraction |r| > 0.99, mean φ′(readout)] of one net."""
    rates, z = run_batch(net, inputs)
    if net.read == "after":  # rates[t] = r_{t+1}: the state entering step t is rates[t − 1]
        r0 = jnp.broadcast_to(net.r0, rates.shape[1:])[None]
        rates_in = jnp.concatenate([r0, rates[:-1]])
    else:
        rates_in = rates
    pre = rates_in @ net.w.T + inputs @ net.w_in.T + net.b
    h = jnp.tanh(pre)
    phi = 4 * z * (1 - z) if net.readout.activation == "sigmoid" else 1 - z**2
    return jnp.stack([jnp.mean(1 - h**2), jnp.mean(jnp.abs(rates) > 0.99), jnp.mean(phi)])


def saturation(nets, task) -> np.ndarray:
    """``[G, 3]``: mean tanh′, fraction |r| > 0.99, mean readout φ′ of each stacked network."""
    inputs = task.all_trials().inputs
    arrays, static = eqx.partition(nets, eqx.is_array)
    g = jax.tree.leaves(arrays)[0].shape[0]
    rows = [
        _sat(eqx.combine(jax.tree.map(lambda a, i=i: a[i], arrays), static), inputs)
        for i in range(g)
    ]
    return np.asarray(rows, float)


def _flat(tree, shape):
    return jax.tree.map(
        lambda a: a.reshape((-1, *a.shape[len(shape) :])) if eqx.is_array(a) else a, tree
    )


def outcomes(task, res) -> dict[str, np.ndarray]:
    """Per network ``[lr, seed]``: learned, trapped, final loss, L₀."""
    y = np.asarray(task.all_trials().targets)
    l_zero = float(np.mean(y**2))
    loss, grad = res.metrics["loss"][..., -1], res.metrics["grad_norm"][..., -1]
    trapped = (loss >= TRAP_LOSS * l_zero) & (grad < TRAP_GRAD)
    return {
        "learned": loss <= LEARNED_LOSS * l_zero,
        "trapped": trapped,
        "loss": loss,
        "l_zero": l_zero,
    }


def critical_lr(lrs: np.ndarray, frac_trapped: np.ndarray) -> float:
    """First lr from which the trapped fraction stays ≥ ``MAJORITY`` (NaN if none)."""
    ok = frac_trapped >= MAJORITY
    for i in range(len(lrs)):
        if ok[i:].all():
            return float(lrs[i])
    return float("nan")


def _saturation_of(res, which: np.ndarray, task) -> np.ndarray | None:
    idx = np.flatnonzero(which.ravel())
    if not idx.size:
        return None
    nets = _flat(res.params, which.shape)
    return saturation(jax.tree.map(lambda a: a[idx] if eqx.is_array(a) else a, nets), task)


def sweep_claims(task, res, lrs) -> tuple[list[Claim], dict]:
    """Claim 7: a critical lr with learning below it; trapped networks are not saturated."""
    o = outcomes(task, res)
    f_learn, f_trap = o["learned"].mean(1), o["trapped"].mean(1)
    eta_c = critical_lr(lrs, f_trap)
    below = f_learn[lrs < eta_c] if np.isfinite(eta_c) else f_learn
    crit = Claim(
        "critical_lr",
        "above a critical lr networks are trapped in a no-learning zone; below it they learn",
        {
            "critical_lr": eta_c,
            "max_learned_below": float(below.max(initial=0.0)),
            "trapped_at_largest_lr": float(f_trap[-1]),
            "l_zero": o["l_zero"],
        },
        verdict_of(np.isfinite(eta_c) and below.max(initial=0.0) >= LEARN_PEAK),
        f"trapped (loss ≥ {TRAP_LOSS}·L₀, ‖∇L‖ < {TRAP_GRAD:g}) in ≥ {MAJORITY} of seeds from "
        f"some lr to the largest; ≥ {LEARN_PEAK} learned (loss ≤ {LEARNED_LOSS}·L₀) at a lower lr",
    )
    at_c = o["trapped"] & (lrs == eta_c)[:, None]
    groups = {"trapped_at_critical_lr": at_c, "trapped": o["trapped"], "learned": o["learned"]}
    sat = {k: _saturation_of(res, w, task) for k, w in groups.items()}
    m = {"trapped_networks": int(o["trapped"].sum()), "learned_networks": int(o["learned"].sum())}
    m["trapped_at_critical_lr_networks"] = int(at_c.sum())
    for k, v in sat.items():
        if v is not None:
            m |= {
                f"{k}_tanh_prime": float(v[:, 0].mean()),
                f"{k}_frac_rates_above_0.99": float(v[:, 1].mean()),
                f"{k}_readout_phi_prime": float(v[:, 2].mean()),
            }
    t = sat["trapped_at_critical_lr"]
    ok = t is not None and (
        t[:, 0].mean() >= RATE_MIN and t[:, 2].mean() <= READOUT_RATIO_MAX * t[:, 0].mean()
    )
    unsat = Claim(
        "trapped_not_saturated",
        "in the no-learning zone the firing rates are NOT saturated (the readout is)",
        m,
        verdict_of(ok),
        f"networks trapped at the critical lr: mean tanh′ ≥ {RATE_MIN} and mean readout φ′ ≤ "
        f"{READOUT_RATIO_MAX} × mean tanh′ (all trapped and learned networks' values reported "
        "for comparison)",
    )
    return [crit, unsat], {"learned": f_learn, "trapped": f_trap, "eta_c": eta_c, "loss": o["loss"]}


def draw_sweep(name: str, lrs, frac: dict, out: Path) -> list[Path]:
    """A: fractions learned / trapped against lr; B: final loss (mean ± s.e.m.)."""
    fig, axes = new_figure(1, 2)
    plot_fraction(
        lrs,
        {"learned": frac["learned"], "trapped": frac["trapped"]},
        ax=axes[0],
        ylabel="fraction of seeds",
        marks={"critical lr": frac["eta_c"]},
    )
    loss = frac["loss"]
    sem = loss.std(1) / np.sqrt(loss.shape[1])
    plot_band(
        lrs, {"final loss": loss.mean(1)}, {"final loss": sem}, ax=axes[1], ylabel="final loss"
    )
    for ax, letter in zip(axes, "AB", strict=True):
        label_panel(ax, letter)
    return save_figure(fig, Path(out) / name)


def run_sweep_figure(name: str, preset: str, size: Sizes, quick: bool, out: Path, key: jax.Array):
    """Sweep, claims and panels of one of Figs. 7A–B / 7C–D."""
    seed0 = int(jax.random.randint(key, (), 0, 2**20))
    task, res = lr_sweep(preset, size, seed0=seed0)
    claims, frac = sweep_claims(task, res, size.lrs)
    files = draw_sweep(name, size.lrs, frac, out)
    return FigureResult(name, claims, files, quick=quick)


def run(quick: bool, out: Path, *, key: jax.Array) -> FigureResult:
    """Full-rank DMTS lr sweep (claim 7)."""
    return run_sweep_figure("fig7a", "fig7_dmts", QUICK if quick else FULL, quick, out, key)
