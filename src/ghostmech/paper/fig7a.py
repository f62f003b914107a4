"""Figure 7A–B: full-rank DMTS learning-rate sweep: a critical lr, and a no-learning zone
whose networks are trapped although their firing rates are NOT saturated.

Setting (docs/model.md §4, 7A–B): N = 100, full-rank W Xavier-uniform, b ~ U(−1, 1),
r₀ = 0, no noise, one trial per type, sigmoid readout (Eq. 38), DMTS
30/80/50 ms at Δt = 5 ms, SGD, lr = logspace(−3, 1, 20), 20 seeds, 20,000
epochs. Quick: N = 100, lr = logspace(−2, 1, 7), 4 seeds, 1000 epochs. Both sizes
are read from the shipped config ``fig7_dmts`` (`sizes`; quick / full variant).

Per network (final epoch), with L₀ = Σ ŷ²/Σ 1 the loss of the constant output
z ≡ 0 (which the sigmoid readout reaches by saturating):

* learned: final loss ≤ ``LEARNED_LOSS``·L₀;
* trapped: final loss ≥ ``TRAP_LOSS``·L₀ and ‖∇L‖ < ``TRAP_GRAD`` (no-learning zone);

both by `ghostmech.training.detect.classify` with these thresholds, and η_c by
`ghostmech.training.detect.critical_lr` (rule ``"sustained"`` at ``MAJORITY``).

Saturation of a trapped network, over trials × steps × units of the noise-free
trials: mean tanh′(W r + W_in u + b) = mean (1 − tanh²), and the fraction of
rates with |r| > 0.99 (tanh′ < 0.02: the saturation regime); its READOUT's
saturation is the mean φ′ of the output (sigmoid: z(1 − z)·4, tanh: 1 − z²,
both 1 at the centre).

Claims, with 95 % Clopper–Pearson intervals on every fraction of networks:

* ``critical_lr`` (paper): η_c = the first lr from which ≥ half the seeds are
  trapped to the largest lr. Decided by two one-sided tests at α = 0.05: the
  networks at lrs ≥ η_c are trapped more often than not (exact binomial,
  H₀: p ≤ ½), and at the lr below η_c where most learn, more learn than at
  lrs ≥ η_c (Fisher exact test).
* ``trapped_not_saturated`` (paper, Fig. 7B and Discussion): the DMTS network of
  the authors' saturation analysis (N = 100, α = 0.5, 30/80/50 ms at
  Δt = 5 ms, one trial per type, plain SGD at lr ``LR_7B`` ≈ 1.438 for
  ``EPOCHS_7B`` = 6,000 epochs, MSE, no noise, r₀ = 0, sigmoid readout:
  preset ``fig7_dmts``), trained from ``NETS_7B`` initialisations: at least
  one is trapped, and every trapped one has MOST of its rates outside the
  saturation regime (fraction with |r| > 0.99 below ½: the paper's "most").
* ``sweep_trapped_not_saturated_beyond_paper`` (ours): the same "most rates
  unsaturated" rule for the sweep's networks trapped AT η_c (pooled). For
  DCD (Fig. 7C) the paper claims nothing; near full size (20,000 epochs) the
  DCD networks trapped at η_c had 39 % of their rates at |r| > 0.99
  (docs/reproduction.md): that is a finding of ours, not the paper's.

Quick sizes (``fig7_dmts.quick.toml``), by power (`ghostmech.stats`): at the design effect of
Fig. 7A (≥ 90 % of the seeds learn just below η_c and are trapped above it;
quick η_c = 1 leaves 3 lrs ≥ η_c), 4 seeds give 12 networks above η_c:
binomial power 0.89 at p = 0.9 (0.98 at p = 0.95), Fisher power 0.94 for
4 learning vs 12 (3 seeds: 0.77 and 0.88).
The helpers (`lr_sweep`, `saturation`, `sweep_claims`, `draw_sweep`) are shared
with Fig. 7C–D (DCD).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.networks import PRESETS, make_preset, run_batch
from ghostmech.paper import settings
from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_of
from ghostmech.plotting.style import label_panel, new_figure, save_figure
from ghostmech.plotting.training import plot_band, plot_fraction
from ghostmech.stats import ALPHA, binomial_greater, fisher_greater, fraction_fields
from ghostmech.tasks import make_task
from ghostmech.training import sweep
from ghostmech.training.detect import Outcome, classify, critical_lr

__all__ = [
    "run",
    "Sizes",
    "CONFIG",
    "sizes",
    "lr_sweep",
    "saturation",
    "sweep_claims",
    "draw_sweep",
    "network_7b",
    "claim_7b",
]

LEARNED_LOSS = 0.5  # learned: final loss ≤ 0.5·L₀ (halfway between silence and the target)
TRAP_LOSS = 0.9  # trapped: final loss ≥ 0.9·L₀ (no better than the silent output z ≡ 0) ...
TRAP_GRAD = 1e-3  # ... and ‖∇L‖ < 1e-3 (the no-learning zone: docs/theory.md, Fig. 3B)
MAJORITY = 0.5  # the critical lr: first lr from which ≥ half the seeds are trapped, to the end
LEARN_PEAK = 0.6  # some lr below it learns with ≥ 60 % of seeds
SATURATED_RATE = 0.99  # the saturation regime: |r| > 0.99 (tanh′ < 0.02)
MOST = 0.5  # "most firing rates lay outside the saturation regime": saturated fraction < ½
LR_7B, EPOCHS_7B = 1.438, 6000  # the Fig. 7B network of the authors' saturation analysis
NETS_7B = {True: 3, False: 10}  # initialisations trained at LR_7B (quick, full)


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


CONFIG = "fig7_dmts"  # the shipped config (quick and full variants) this figure trains


def sizes(quick: bool, config: str = CONFIG) -> Sizes:
    """The sizes of the shipped config ``config`` (its quick or full variant): N, the
    ``grid.lr`` log range, the number of seeds and the epochs, what ``ghostmech sweep
    CONFIG --quick/--full`` trains (quick: power in the module docstring)."""
    cfg = settings.shipped(config, quick=quick)
    lo, hi, num = settings.lr_logspace(cfg)
    return Sizes(n=cfg.network.n, lr_lo=lo, lr_hi=hi, n_lrs=num, n_seeds=settings.n_seeds(cfg),
                 epochs=cfg.training.epochs)  # fmt: skip


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
    code = classify(loss, grad, l_zero=l_zero, learned_below=LEARNED_LOSS,
                    trapped_above=TRAP_LOSS, grad_below=TRAP_GRAD)  # fmt: skip
    return {
        "learned": code == Outcome.LEARNED,
        "trapped": code == Outcome.TRAPPED,
        "loss": loss,
        "l_zero": l_zero,
    }


def _saturation_of(res, which: np.ndarray, task) -> np.ndarray | None:
    idx = np.flatnonzero(which.ravel())
    if not idx.size:
        return None
    nets = _flat(res.params, which.shape)
    return saturation(jax.tree.map(lambda a: a[idx] if eqx.is_array(a) else a, nets), task)


def _critical_claim(o: dict, lrs) -> tuple[Claim, float]:
    f_learn, f_trap = o["learned"].mean(1), o["trapped"].mean(1)
    # η_c = the first lr of the grid from which ≥ MAJORITY are trapped to the largest lr
    eta_c = critical_lr(lrs, f_trap, level=MAJORITY, rule="sustained").hi
    above = lrs >= eta_c if np.isfinite(eta_c) else np.zeros(lrs.size, bool)
    below = np.flatnonzero(~above)
    peak = int(below[np.argmax(f_learn[below])]) if below.size else -1
    n_seeds = o["trapped"].shape[1]
    k_trap, n_above = int(o["trapped"][above].sum()), int(above.sum() * n_seeds)
    k_learn_above = int(o["learned"][above].sum())
    k_peak = int(o["learned"][peak].sum()) if peak >= 0 else 0
    p_trap = binomial_greater(k_trap, n_above, 0.5)
    p_learn = fisher_greater(k_peak, n_seeds if peak >= 0 else 0, k_learn_above, n_above)
    crit = Claim(
        "critical_lr",
        "above a critical lr networks are trapped in a no-learning zone; below it they learn",
        {
            "critical_lr": eta_c,
            **fraction_fields("trapped_at_and_above_critical_lr", k_trap, n_above),
            "peak_learning_lr_below": float(lrs[peak]) if peak >= 0 else float("nan"),
            **fraction_fields("learned_at_peak_below", k_peak, n_seeds if peak >= 0 else 0),
            **fraction_fields("learned_at_and_above_critical_lr", k_learn_above, n_above),
            "p_binomial_trapped": p_trap,
            "p_fisher_learned": p_learn,
            "trapped_at_largest_lr": float(f_trap[-1]),
            "l_zero": o["l_zero"],
        },
        verdict_all(
            [
                verdict_of(np.isfinite(eta_c)),
                verdict_of(p_trap <= ALPHA),
                verdict_of(p_learn <= ALPHA),
            ]
        ),
        f"trapped = loss ≥ {TRAP_LOSS}·L₀ and ‖∇L‖ < {TRAP_GRAD:g}; learned = loss ≤ "
        f"{LEARNED_LOSS}·L₀; η_c = first lr from which ≥ {MAJORITY} of seeds are trapped to the "
        f"largest lr; at lrs ≥ η_c trapped > ½ (one-sided exact binomial, p ≤ {ALPHA:g}); "
        f"learned at the best lr below η_c > at lrs ≥ η_c (one-sided Fisher, p ≤ {ALPHA:g}); "
        "95 % Clopper–Pearson intervals",
    )
    return crit, eta_c


def _saturation_fields(prefix: str, sat: np.ndarray | None) -> dict:
    if sat is None:
        return {}
    return {
        f"{prefix}_tanh_prime": float(sat[:, 0].mean()),
        f"{prefix}_frac_rates_above_0.99": float(sat[:, 1].mean()),
        f"{prefix}_readout_phi_prime": float(sat[:, 2].mean()),
    }


def sweep_claims(task, res, lrs) -> tuple[list[Claim], dict]:
    """Claim 7's critical lr, and (beyond the paper) the saturation of the networks trapped
    at the critical lr."""
    o = outcomes(task, res)
    crit, eta_c = _critical_claim(o, lrs)
    at_c = o["trapped"] & (lrs == eta_c)[:, None]
    groups = {"trapped_at_critical_lr": at_c, "trapped": o["trapped"], "learned": o["learned"]}
    sat = {k: _saturation_of(res, w, task) for k, w in groups.items()}
    m = {"trapped_networks": int(o["trapped"].sum()), "learned_networks": int(o["learned"].sum())}
    t = sat["trapped_at_critical_lr"]
    n_at = int(at_c.sum())
    mostly = int((t[:, 1] < MOST).sum()) if t is not None else 0
    m |= fraction_fields("trapped_at_critical_lr_with_most_rates_unsaturated", mostly, n_at)
    for k, v in sat.items():
        m |= _saturation_fields(k, v)
    ok = t is not None and t[:, 1].mean() < MOST
    unsat = Claim(
        "sweep_trapped_not_saturated_beyond_paper",
        "beyond the paper (which claims it for the Fig. 7B DMTS network only): the networks "
        "trapped at the critical lr keep most firing rates outside the saturation regime",
        m,
        verdict_of(ok),
        f"networks trapped at the critical lr, pooled: fraction of rates with |r| > "
        f"{SATURATED_RATE} < {MOST} (all trapped and learned networks' values reported)",
    )
    frac = {
        "learned": o["learned"].mean(1),
        "trapped": o["trapped"].mean(1),
        "eta_c": eta_c,
        "loss": o["loss"],
    }
    return [crit, unsat], frac


def network_7b(n_nets: int, *, seed0: int):
    """``(task, SweepResult)``: the Fig. 7B DMTS network (preset ``fig7_dmts``) at lr
    ``LR_7B`` for ``EPOCHS_7B`` epochs from seeds ``seed0 … seed0 + n_nets − 1``."""
    size = Sizes(n=100, lr_lo=0.0, lr_hi=0.0, n_lrs=1, n_seeds=n_nets, epochs=EPOCHS_7B)
    task = make_task(**PRESETS["fig7_dmts"].task)
    res = sweep(
        lambda k: make_preset("fig7_dmts", key=k, n=size.n),
        task,
        lrs=[LR_7B],
        seeds=range(seed0, seed0 + n_nets),
        epochs=EPOCHS_7B,
        chunk=2000,
    )
    return task, res


def claim_7b(task, res) -> Claim:
    """The paper's saturation claim on the Fig. 7B networks (see the module docstring)."""
    o = outcomes(task, res)
    trapped = o["trapped"][0]
    sat = _saturation_of(res, o["trapped"], task)
    n_t = int(trapped.sum())
    mostly = int((sat[:, 1] < MOST).sum()) if sat is not None else 0
    m = {
        **fraction_fields("trapped", n_t, int(trapped.size)),
        **fraction_fields("trapped_with_most_rates_unsaturated", mostly, n_t),
        "lr": LR_7B,
        "epochs": EPOCHS_7B,
    }
    if sat is not None:
        m |= _saturation_fields("trapped", sat)
        m["max_frac_rates_above_0.99"] = float(sat[:, 1].max())
    return Claim(
        "trapped_not_saturated",
        "Fig. 7B: the trapped DMTS network has most of its firing rates outside tanh's "
        "saturation regime",
        m,
        verdict_of(n_t >= 1 and mostly == n_t),
        f"DMTS N = 100, SGD lr {LR_7B}, {EPOCHS_7B} epochs, r₀ = 0, no noise: ≥ 1 network "
        f"trapped (loss ≥ {TRAP_LOSS}·L₀, ‖∇L‖ < {TRAP_GRAD:g}) and in every trapped one the "
        f"fraction of rates with |r| > {SATURATED_RATE} is < {MOST}",
    )


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
    """Full-rank DMTS lr sweep (claim 7) and the Fig. 7B network's saturation."""
    res = run_sweep_figure("fig7a", "fig7_dmts", sizes(quick), quick, out, key)
    seed0 = int(jax.random.randint(jax.random.fold_in(key, 7), (), 0, 2**20))
    task, net = network_7b(NETS_7B[quick], seed0=seed0)
    return dataclasses.replace(res, claims=[*res.claims, claim_7b(task, net)])
