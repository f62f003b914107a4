"""Measuring a critical learning rate: outcomes per (lr, network) and the crossing of ½.

Every network of ``n_seeds`` initial networks is trained from its initialisation with plain
SGD at every lr of a grid until its outcome is decided (docs/theory.md, "Predicting the
critical learning rate", measurement):

* **trapped**: at any epoch L > `LOSS_TRAPPED` (= 0.9) and ‖∇L‖ < `GRAD_TRAPPED` (= 1e-6,
  float32): the no-learning zone of Fig. 3B, where the output is confidently wrong and
  the gradient vanishes (the plateau's ‖∇L‖ is ≈ 1e-4–1e-3). It is absorbing: the
  network stops there;
* **learned**: not trapped, and L < `LEARNED` (= 0.1) at the end of the budget of
  ``budget / lr`` epochs (a fixed gradient-flow time ``lr · epochs``; the plateau lasts
  ∝ 1/lr), rounded up to a whole number of training chunks. A trapped DA network sits
  at L = R/T = 1, a learned one near 0.02;
* **undecided**: neither (still on the plateau, or oscillating above L = 0.1).

Networks learn and are then trapped in the oscillations after the drop (measured: at
T = 20, lr 0.025, 5 of 8 rank-one networks reached L < 0.1 first and ended above it), so a
network that learned is followed to the end of its budget. η_c is where the fraction
trapped among the decided networks crosses ½ (`stats.crossing`), with a bootstrap
interval over networks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive, check_positive_int
from ghostmech.critical.stats import bootstrap_crossing, crossing, wilson
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation
from ghostmech.training import init_state, sweep
from ghostmech.training.detect import Outcome, classify
from ghostmech.training.engine import (
    drive,
    kernel_applies,
    make_executor,
    make_schedule,
    stack,
    take,
)

__all__ = [
    "LEARNED",
    "LOSS_TRAPPED",
    "GRAD_TRAPPED",
    "STATUSES",
    "Measured",
    "summarise",
    "rank1_params",
    "measure_rank1_da",
]

LEARNED = 0.1
LOSS_TRAPPED = 0.9
GRAD_TRAPPED = 1e-6
STATUSES = ("ok", "not_bracketed")


@dataclass(frozen=True)
class Measured:
    """A measured η_c: ``status`` in `STATUSES`; per lr the counts and Wilson intervals
    of the fraction trapped; ``outcome`` ``[n_lrs, nets]`` (1 trapped, 0 learned, NaN
    undecided) and ``epochs`` (epoch of the decision, or the budget)."""

    status: str
    eta_c: float
    ci: tuple[float, float]
    lrs: np.ndarray
    trapped: np.ndarray
    decided: np.ndarray
    wilson_lo: np.ndarray
    wilson_hi: np.ndarray
    outcome: np.ndarray
    epochs: np.ndarray
    boot: np.ndarray = field(repr=False)
    wall_s: float = math.nan

    def as_dict(self) -> dict:
        """JSON-ready summary (no per-network arrays except the counts)."""
        return dict(
            status=self.status,
            eta_c=self.eta_c,
            ci95=list(self.ci),
            lrs=self.lrs.tolist(),
            trapped=self.trapped.astype(int).tolist(),
            decided=self.decided.astype(int).tolist(),
            undecided=(np.isnan(self.outcome).sum(1)).astype(int).tolist(),
            wilson95=[self.wilson_lo.tolist(), self.wilson_hi.tolist()],
            wall_s=self.wall_s,
        )


def summarise(
    lrs, outcome, epochs, *, key: int = 0, wall_s: float = math.nan, above_peak: bool = False
) -> Measured:
    """`Measured` from outcomes ``[n_lrs, nets]``: crossing, bootstrap 95 % interval
    (2.5–97.5 percentiles, widened to the bracketing grid cell), Wilson intervals.

    ``above_peak``: the crossing is sought only at and above the lr where the fraction
    trapped is lowest (below it, networks are not learned because the plateau outlasts the
    run, the slow side of the window, not because they are trapped)."""
    lrs, out = np.asarray(lrs, float), np.asarray(outcome, float)
    if above_peak:
        frac = np.nanmean(np.where(np.isfinite(out), out, np.nan), 1)
        out = np.where(np.arange(lrs.size)[:, None] < int(np.nanargmin(frac)), np.nan, out)
    dec = np.isfinite(out).sum(1)
    trapped = np.nansum(out, 1)
    eta, lo, hi = crossing(lrs, trapped, dec)
    boot = bootstrap_crossing(lrs, out, key=key)
    fin = boot[np.isfinite(boot)]
    if math.isfinite(eta):
        b_lo, b_hi = np.percentile(fin, [2.5, 97.5]) if fin.size else (eta, eta)
        ci = (float(min(b_lo, lo)), float(max(b_hi, hi)))
        status = "ok"
    else:
        ci, status = (math.nan, math.nan), "not_bracketed"
    w_lo, w_hi = wilson(trapped, dec)
    return Measured(
        status, eta, ci, lrs, trapped, dec, w_lo, w_hi, out, np.asarray(epochs), boot, wall_s
    )


def rank1_params(keys: jax.Array, preset: str = "fig6a_rank1") -> tuple[jax.Array, ...]:
    """``(m, n, b)`` ``[nets, N]`` float32 of the rank-one preset network for each key."""
    nets = [make_preset(preset, key=k) for k in keys]
    m = jnp.stack([jnp.asarray(net.m[:, 0], jnp.float32) for net in nets])
    n = jnp.stack([jnp.asarray(net.nT[:, 0], jnp.float32) for net in nets])
    b = jnp.stack([jnp.asarray(net.b, jnp.float32) for net in nets])
    return m, n, b


def measure_rank1_da(
    lrs,
    *,
    key: jax.Array,
    delay: int,
    n_seeds: int = 8,
    budget: float = 250.0,
    chunk: int = 2000,
    log=None,
) -> Measured:
    """Outcome of ``n_seeds`` rank-one DA networks (Eq. 36 readout, R = T) at each lr.

    The ``fig6a_rank1`` networks (one per key of ``split(key, n_seeds)``, the same at
    every lr) train with plain SGD, ``θ ← θ − lr ∇L`` on the DA loss
    L = Σ_t (z_t − ŷ_t)² / T (Eq. 47 with the Eq. 36 readout), through the engine
    (`ghostmech.training.engine.drive` with the rank-one kernel's `KernelExecutor`,
    chunks of ``chunk`` epochs). Each network leaves the run when decided (module
    docstring; `detect.classify` through `_trapped`): trapped at the end of the chunk
    where it was first trapped, or at its budget (drive's per-network ``budgets``):
    ``ceil(budget / lr)`` epochs rounded up to whole chunks (the end of the first chunk
    at or past it, as in the recorded measurements), where it is learned if its last
    loss is below `LEARNED`. ``epochs`` of the result: the first epoch with L < 0.1
    (the drop; −1 if never) per network.

    Retiring decided networks is what makes this fast: a low lr runs ∝ 1/lr epochs,
    while the trapped networks of high lrs leave within a chunk or two.
    """
    delay = check_positive_int("delay", delay)
    n_seeds = check_positive_int("n_seeds", n_seeds)
    check_positive("budget", budget)
    chunk = check_positive_int("chunk", chunk)
    lrs = np.sort(np.asarray(lrs, float))
    t0 = time.time()
    keys = jax.random.split(key, n_seeds)
    nets = stack([make_preset("fig6a_rank1", key=k) for k in keys] * lrs.size)
    task = DelayedActivation(delay, delay)
    lr = np.repeat(lrs, n_seeds)
    batch = task.all_trials()
    if not kernel_applies(take(nets, 0), task, batch, optimizer="sgd"):
        raise ValueError("the `fig6a_rank1` preset no longer fits the rank-one DA kernel")
    states = eqx.filter_vmap(lambda net, rate, k: init_state(net, optimizer="sgd", lr=rate, key=k))(
        nets, jnp.asarray(lr, jnp.float32), jnp.tile(keys, (lrs.size,))
    )
    limit = chunk * -(-np.ceil(budget / lr).astype(int) // chunk)  # whole chunks
    judge = _Judge(lrs.size, n_seeds, limit, delay, t0, log)
    schedule = make_schedule(int(limit.max()), chunk=chunk)
    executor = make_executor("kernel", task, batch, schedule.chunk)
    drive(states, executor, schedule, judge, retire=judge, budgets=limit)
    shape = (lrs.size, n_seeds)
    return summarise(
        lrs, judge.outcome.reshape(shape), judge.drop.reshape(shape), wall_s=time.time() - t0
    )


class _Judge:
    """`measure_rank1_da`'s decisions as the engine's sink and `Retire`: after each chunk
    the drop epoch, trapped (retire: outcome 1), and at a network's budget learned
    (outcome 0) or undecided (NaN). Keeps no histories."""

    def __init__(self, n_lrs, n_seeds, limit, delay, t0, log):
        self.n_seeds, self.n_lrs, self.limit, self.delay, self.t0, self.log = (
            n_seeds, n_lrs, limit, delay, t0, log)  # fmt: skip
        self.outcome = np.full(limit.size, np.nan)
        self.drop = np.full(limit.size, -1)

    def checkpoint(self, epoch, states):
        pass

    def chunk(self, start, stop, metrics, states):
        pass

    def retire(self, start, stop, metrics, active):
        loss, gn = metrics["loss"], metrics["grad_norm"]
        below = active & (loss < LEARNED).any(1) & (self.drop < 0)
        self.drop[below] = start + np.argmax(loss[below] < LEARNED, 1)
        trapped = active & _trapped(loss, gn).any(1)
        over = active & (stop >= self.limit) & ~trapped
        self.outcome[trapped] = 1.0
        self.outcome[over & (loss[:, -1] < LEARNED)] = 0.0
        if self.log is not None:
            left = active & ~(trapped | over)
            counts = np.bincount(np.flatnonzero(self.outcome == 1) // self.n_seeds,
                                 minlength=self.n_lrs)  # fmt: skip
            self.log(f"T={self.delay} epoch {stop} active {left.sum()}/{self.limit.size} "
                     f"trapped {counts} ({time.time() - self.t0:.0f} s)")  # fmt: skip
        return trapped | over


def _trapped(loss, grad_norm) -> np.ndarray:
    """Per epoch: trapped (`detect.classify` with L > `LOSS_TRAPPED` and ‖∇L‖ <
    `GRAD_TRAPPED`: the no-learning zone) or diverged (non-finite loss)."""
    code = classify(loss, grad_norm, learned_below=LEARNED, trapped_above=LOSS_TRAPPED,
                    grad_below=GRAD_TRAPPED)  # fmt: skip
    return (code == Outcome.TRAPPED) | (code == Outcome.DIVERGED)


def _first(flags: np.ndarray) -> np.ndarray:
    """First index along the last axis where ``flags`` holds (−1 where never)."""
    return np.where(flags.any(-1), np.argmax(flags, -1), -1)


def outcomes_from_history(loss, grad_norm) -> tuple[np.ndarray, np.ndarray]:
    """Outcome and drop epoch per network from loss / ‖∇L‖ histories ``[..., epoch]``.

    Trapped (1) if at any epoch L > `LOSS_TRAPPED` and ‖∇L‖ < `GRAD_TRAPPED` (or the loss
    is non-finite); else learned (0) if the final L < `LEARNED`; else NaN (undecided).
    The drop epoch is the first with L < `LEARNED` (−1 if never).
    """
    loss, grad_norm = np.asarray(loss, float), np.asarray(grad_norm, float)
    ok = np.isfinite(loss)
    trapped = _trapped(loss, grad_norm).any(-1)
    learned = ~trapped & (loss[..., -1] < LEARNED)
    out = np.where(trapped, 1.0, np.where(learned, 0.0, np.nan))
    return out, _first(ok & (loss < LEARNED))


def measure_sweep(build, task, lrs, *, seeds, epochs: int, chunk: int = 1000, **kw) -> Measured:
    """η_c of any network family by the Fig. 6A rule: `training.sweep` of ``build`` on
    ``task`` at every lr for ``epochs`` epochs; a network is learned when its final
    L < `LEARNED` (outcome 0), else not learned (1); η_c is where the fraction not
    learned crosses ½ above the lr where it is lowest (`summarise` with ``above_peak``).

    Networks with a trainable readout (Eq. 48) end trapped with ‖∇L‖ ≈ 1e-6–1e-2, so the
    rank-one no-learning test (‖∇L‖ < `GRAD_TRAPPED`) does not apply to them.
    ``build(key) -> RateRNN``; ``seeds`` integer seeds (same initial networks at every lr).
    """
    lrs = np.sort(np.asarray(lrs, float))
    t0 = time.time()
    res = sweep(
        build, task, lrs=list(lrs), seeds=list(seeds), epochs=epochs, chunk=min(chunk, epochs), **kw
    )
    loss = np.asarray(res.metrics["loss"], float)
    final = loss[..., -1]
    out = np.where(np.isfinite(final) & (final < LEARNED), 0.0, 1.0)
    drop = _first(np.isfinite(loss) & (loss < LEARNED))
    return summarise(lrs, out, drop, wall_s=time.time() - t0, above_peak=True)
