"""Empirical critical learning rate: where gradient descent starts to get trapped.

For each learning rate tried, ``n_starts`` descents run in one ``vmap`` call
and we record the fraction that end in the no-learning zone (ε < ε₀). The
threshold is bracketed and then narrowed by multisection in log η (``n_grid``
learning rates per round, compiled once), until hi/lo − 1 < ``tol``. The
measured η_c is the smallest learning rate tried at which any start was
trapped (with every smaller tried rate trapping none).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech import _checks
from ghostmech.canonical._args import landscape_args, window, x64
from ghostmech.canonical.descent import run_many
from ghostmech.canonical.landscape import split_static
from ghostmech.canonical.regimes import critical_lr, optimum, point_of_no_return

__all__ = ["CriticalLR", "Scaling", "find_critical_lr", "scaling_exponent", "initial_eps"]

STARTS = ("near", "far", "both")


@dataclasses.dataclass(frozen=True)
class CriticalLR:
    """Measured vs theoretical critical learning rate (host-side result).

    lrs, fraction_trapped: every learning rate tried (sorted) and the fraction
    of starts trapped there. status: "ok", "unbracketed" (no trapping even at
    the top of the search range, or trapping at its bottom) or "max_iter".
    """

    measured: float
    theory: float
    lrs: np.ndarray
    fraction_trapped: np.ndarray
    status: str
    T: float
    R: float
    scale: str


@dataclasses.dataclass(frozen=True)
class Scaling:
    """log η_c against log T: fitted exponents (measured and theory) over ``Ts``."""

    Ts: np.ndarray
    eta_c: np.ndarray
    eta_c_theory: np.ndarray
    exponent: float
    theory_exponent: float
    status: str


def initial_eps(T: float, n_starts: int, *, key, starts: str = "near", delta: float = 1e-3):
    """Random initial ε: "near" = ε*(1 + U(0, δ)); "far" = 10ε* + N(0, (ε*/10)²) (Fig. 2D);
    "both" = half of each. Shape [n_starts], float64."""
    _checks.check_one_of("starts", starts, STARTS)
    e_star = optimum(T)
    k1, k2 = jax.random.split(key)
    near = e_star * (1 + delta * jax.random.uniform(k1, (n_starts,), jnp.float64))
    far = 10 * e_star + e_star / 10 * jax.random.normal(k2, (n_starts,), jnp.float64)
    if starts == "near":
        return near
    if starts == "far":
        return far
    return jnp.where(jnp.arange(n_starts) % 2 == 0, near, far)


def _fractions(lrs, eps0, dyn, static, epochs, e_zero) -> np.ndarray:
    n_lr, n_st = len(lrs), eps0.shape[0]
    lr_flat = jnp.repeat(jnp.asarray(lrs, jnp.float64), n_st)
    eps_flat = jnp.tile(eps0, n_lr)
    final = run_many(eps_flat, lr_flat, dyn, static=static, epochs=epochs, record=False)
    return np.asarray((final < e_zero).reshape(n_lr, n_st).mean(-1))


@x64
def find_critical_lr(
    T: float,
    R: float | None = None,
    *,
    key: Any,
    n_starts: int = 8,
    epochs: int = 1000,
    scale: str = "raw",
    tol: float = 1e-3,
    starts: str = "near",
    delta: float = 1e-3,
    beta: float | None = None,
    x_theta: float | None = None,
    n_grid: int = 7,
    max_rounds: int = 20,
) -> CriticalLR:
    """Measure η_c by multisection in log η over vmapped descents (see module docstring).

    The search starts from [η_theory/2, 2η_theory] and widens it (×4, up to
    four times) until no start is trapped at the bottom and some are at the top.
    """
    a = landscape_args(T, R, beta, x_theta, scale, "closed", 0.1, 1e6)
    T, R = window(T, R)
    n_starts = _checks.check_positive_int("n_starts", n_starts)
    epochs = _checks.check_positive_int("epochs", epochs)
    tol = _checks.check_positive("tol", tol)
    n_grid = _checks.check_positive_int("n_grid", n_grid)
    max_rounds = _checks.check_positive_int("max_rounds", max_rounds)
    delta = _checks.check_positive("delta", delta)
    dyn, static = split_static(a)
    eps0 = initial_eps(T, n_starts, key=key, starts=starts, delta=delta)
    e_zero, theory = point_of_no_return(T, R), critical_lr(T, R, scale)
    tried: dict[float, float] = {}

    def evaluate(lrs):
        fr = _fractions(lrs, eps0, dyn, static, epochs, e_zero)
        tried.update(zip(map(float, lrs), map(float, fr), strict=True))
        return fr

    lo, hi = theory / 2, theory * 2
    for _ in range(5):
        f_lo, f_hi = evaluate(np.array([lo, hi]))
        if f_lo == 0 and f_hi > 0:
            break
        lo, hi = (lo / 4, hi) if f_lo > 0 else (lo, hi * 4)
    else:
        return _result(tried, math.nan, theory, "unbracketed", T, R, scale)
    status = "max_iter"
    for _ in range(max_rounds):
        if hi / lo - 1 < tol:
            status = "ok"
            break
        grid = np.exp(np.linspace(math.log(lo), math.log(hi), n_grid + 2)[1:-1])
        fr = evaluate(grid)
        hit = np.flatnonzero(fr > 0)
        hi = grid[hit[0]] if hit.size else hi
        below = grid[grid < hi]
        lo = below[-1] if below.size else lo
    return _result(tried, hi, theory, status, T, R, scale)


def _result(tried, measured, theory, status, T, R, scale) -> CriticalLR:
    lrs = np.array(sorted(tried))
    frac = np.array([tried[v] for v in lrs])
    return CriticalLR(float(measured), float(theory), lrs, frac, status, float(T), float(R), scale)


def scaling_exponent(
    Ts: Any, R: float | None = None, *, key: Any, scale: str = "raw", **finder_kwargs: Any
) -> Scaling:
    """Fit log η_c = a + p log T for measured (:func:`find_critical_lr`) and theory η_c.

    ``R=None`` uses R = T at every T (theory exponent −5 raw, −4 per_T); a
    fixed ``R`` gives exponents tending to −6 (raw) / −5 (per_T) for T ≫ R.
    """
    Ts = np.asarray(Ts, dtype=float)
    if Ts.ndim != 1 or Ts.size < 2:
        raise ValueError(f"`Ts` (={Ts!r}) must be a 1-D sequence of at least two delays")
    keys = jax.random.split(key, Ts.size)
    results = [
        find_critical_lr(float(t), R, key=k, scale=scale, **finder_kwargs)
        for t, k in zip(Ts, keys, strict=True)
    ]
    measured = np.array([r.measured for r in results])
    theory = np.array([r.theory for r in results])
    status = (
        "ok"
        if all(r.status == "ok" for r in results)
        else "finder: " + ",".join(r.status for r in results)
    )
    slope = (
        np.polyfit(np.log(Ts), np.log(measured), 1)[0] if np.isfinite(measured).all() else math.nan
    )
    return Scaling(
        Ts,
        measured,
        theory,
        float(slope),
        float(np.polyfit(np.log(Ts), np.log(theory), 1)[0]),
        status,
    )
