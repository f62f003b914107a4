"""Every fixed point and ghost of a 1-D flow κ̇ = F(κ)/τ (rank-one latent flows).

For a rank-one network F(κ) = −κ + nᵀ tanh(m κ + b + W_in u) (docs/model.md §2). On a
grid of κ the method brackets the sign changes of F (fixed points) and of F′
(extrema), polishes each with Brent's method, then classifies:

* fixed point F(κ*) = 0: ``stable`` (F′ < −s), ``unstable`` (F′ > s),
  ``marginal`` (|F′| ≤ s, e.g. a fold), s = slope_tol·max|F′| on the grid;
* ghost: an extremum with F(κ_g)·F″(κ_g) > 0 (it points towards zero without
  crossing it), ε = F(κ_g) F″(κ_g) / (2τ²), dwell time π/√ε;
  an extremum with |F| ≤ zero_tol·max|F| is a marginal fixed point instead.

>>> import jax.numpy as jnp
>>> fl = flow_1d(lambda k: 1e-4 + k**2, -1.0, 1.0)
>>> [(p.kind, round(p.eps, 10)) for p in fl.points]
[('ghost', 0.0001)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from ghostmech._checks import check_finite, check_positive, check_positive_int
from ghostmech.dynamics.ghost import dwell_time

__all__ = ["Point1D", "Flow1D", "flow_1d", "latent_range", "scalar_flow"]


@dataclass(frozen=True)
class Point1D:
    """A fixed point or ghost of the 1-D flow (ε, dwell NaN for fixed points)."""

    kappa: float
    kind: str
    F: float
    dF: float
    d2F: float
    eps: float
    dwell: float


@dataclass(frozen=True)
class Flow1D:
    """F and F′ on the grid, the points found (sorted by κ) and a status."""

    kappa: np.ndarray
    F: np.ndarray
    dF: np.ndarray
    points: tuple[Point1D, ...]
    status: str

    def kinds(self) -> list[str]:
        return [p.kind for p in self.points]


class _Scalar(eqx.Module):
    field: Callable

    def __call__(self, k):
        return self.field(jnp.reshape(k, (1,)))[0]


def scalar_flow(field: Callable) -> Callable:
    """Turn a field on ℝ¹ (shape (1,) → (1,)) into a scalar function κ ↦ F(κ).

    An ``eqx.Module`` (the field's arrays are leaves): a jitted search compiles once
    for every checkpoint of a network, not once per call."""
    return _Scalar(field)


def latent_range(field, margin: float = 1.0) -> tuple[float, float]:
    """Bounds that contain every fixed point of a rank-one LatentField: |κ| ≤ ‖n‖₁ (+ margin)."""
    r = float(np.sum(np.abs(np.asarray(field.nT)))) + margin
    return -r, r


def _brackets(y: np.ndarray) -> np.ndarray:
    s = np.sign(y)
    return np.flatnonzero((s[:-1] * s[1:] < 0) | (s[:-1] == 0))


def _roots(fun, grid, values) -> list[float]:
    out = []
    for i in _brackets(values):
        out.append(
            float(grid[i]) if values[i] == 0 else brentq(fun, grid[i], grid[i + 1], xtol=1e-15)
        )
    return out


def flow_1d(
    F: Callable,
    lo: float,
    hi: float,
    *,
    n_grid: int = 2001,
    tau: float = 1.0,
    slope_tol: float = 1e-8,
    zero_tol: float = 1e-12,
) -> Flow1D:
    """Grid-bracket-polish search for the fixed points and ghosts of κ̇ = F(κ)/τ on [lo, hi]."""
    lo, hi = check_finite("lo", lo), check_finite("hi", hi)
    if not hi > lo:
        raise ValueError(f"`hi` (={hi!r}) must be greater than `lo` (={lo!r})")
    n_grid = check_positive_int("n_grid", n_grid)
    tau, slope_tol = check_positive("tau", tau), check_positive("slope_tol", slope_tol)
    zero_tol = check_positive("zero_tol", zero_tol)
    with jax.enable_x64(True):
        grid = np.linspace(lo, hi, n_grid)
        Fg, dFg, _ = (np.asarray(a) for a in _on_grid(F, jnp.asarray(grid)))
        if Fg.shape != grid.shape:
            raise ValueError(f"`F` must map a scalar to a scalar; got shape {Fg.shape[1:]}")
        points = _classify(F, grid, Fg, dFg, tau, slope_tol, zero_tol)
    status = "ok" if np.all(np.isfinite(Fg)) else "non_finite"
    return Flow1D(grid, Fg, dFg, tuple(sorted(points, key=lambda p: p.kappa)), status)


def _derivs(F: Callable, k):
    """F, F′, F″ at κ (``F`` wrapped so transforms never see a Module directly)."""
    g = lambda y: F(y)  # noqa: E731
    return g(k), jax.grad(g)(k), jax.grad(jax.grad(g))(k)


_at = eqx.filter_jit(_derivs)
_on_grid = eqx.filter_jit(lambda F, ks: jax.vmap(lambda k: _derivs(F, k))(ks))


def _classify(Fn, grid, Fg, dFg, tau, slope_tol, zero_tol) -> list[Point1D]:
    def num(i):
        return lambda k: float(_at(Fn, jnp.asarray(k, jnp.float64))[i])

    F, dF, d2F = num(0), num(1), num(2)
    s = slope_tol * max(float(np.max(np.abs(dFg))), 1e-300)
    z = zero_tol * max(float(np.max(np.abs(Fg))), 1e-300)
    points: list[Point1D] = []
    for k in _roots(F, grid, Fg):
        d = dF(k)
        kind = "stable" if d < -s else ("unstable" if d > s else "marginal")
        points.append(Point1D(k, kind, F(k), d, d2F(k), np.nan, np.nan))
    dx = grid[1] - grid[0]
    for k in _roots(dF, grid, dFg):
        fk, ck = F(k), d2F(k)
        if abs(fk) <= z:
            if all(abs(p.kappa - k) > dx for p in points):
                points.append(Point1D(k, "marginal", fk, dF(k), ck, np.nan, np.nan))
        elif fk * ck > 0:
            eps = fk * ck / (2.0 * tau**2)
            points.append(Point1D(k, "ghost", fk, dF(k), ck, eps, float(dwell_time(eps))))
    return points
