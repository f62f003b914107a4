"""A 2-D flow (rank-two latent flows, planar examples) on a grid, plus its points.

On an n×n grid the module evaluates the field (U, V) = f(x, y) and the speed
q = ½(U² + V²). The nullclines are the zero contours of U and V (drawn by
:func:`ghostmech.plotting.dynamics.plot_phase_portrait`). Fixed points, slow
points and ghosts come from :func:`find_points`, started at every grid local
minimum of q (8-neighbour) and at any extra ``starts``.

>>> import jax.numpy as jnp
>>> fl = flow_2d(lambda z: jnp.array([-z[0], 1e-4 + z[1] ** 2]), (-1, 1), (-1, 1), n_grid=21)
>>> fl.points.kind.tolist()
['ghost']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_finite, check_int_in_range
from ghostmech.dynamics.finder import find_points
from ghostmech.dynamics.points import Points

__all__ = ["Flow2D", "flow_2d", "grid_minima"]


@dataclass(frozen=True, eq=False)
class Flow2D:
    """Grid axes x [gx], y [gy]; U, V, speed [gy, gx]; points found; status."""

    x: np.ndarray
    y: np.ndarray
    U: np.ndarray
    V: np.ndarray
    speed: np.ndarray
    points: Points
    status: str


@eqx.filter_jit
def _on_grid(f, xy):
    return jax.vmap(f)(xy)


def grid_minima(speed: np.ndarray) -> np.ndarray:
    """(row, col) indices of strict-or-equal local minima over the 8 neighbours."""
    p = np.pad(speed, 1, constant_values=np.inf)
    c = p[1:-1, 1:-1]
    is_min = np.ones_like(c, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= c <= p[1 + di : p.shape[0] - 1 + di, 1 + dj : p.shape[1] - 1 + dj]
    return np.argwhere(is_min)


def _limits(name: str, lim) -> tuple[float, float]:
    lo, hi = (check_finite(name, v) for v in lim)
    if not hi > lo:
        raise ValueError(f"`{name}` (={tuple(lim)!r}) must be (low, high) with high > low")
    return lo, hi


def flow_2d(f: Callable, xlim, ylim, *, n_grid: int = 41, starts=None, **finder_kw) -> Flow2D:
    """Field, speed and points of ż = f(z), z ∈ ℝ², on [xlim] × [ylim]."""
    (x0, x1), (y0, y1) = _limits("xlim", xlim), _limits("ylim", ylim)
    n_grid = check_int_in_range("n_grid", n_grid, 3, 2000)
    x, y = np.linspace(x0, x1, n_grid), np.linspace(y0, y1, n_grid)
    X, Y = np.meshgrid(x, y)
    xy = np.stack([X.ravel(), Y.ravel()], axis=1)
    with jax.enable_x64(True):
        uv = np.asarray(_on_grid(f, jnp.asarray(xy)))
    if uv.shape != xy.shape:
        raise ValueError(f"`f` must map shape (2,) to (2,); got {uv.shape[1:]}")
    U, V = uv[:, 0].reshape(X.shape), uv[:, 1].reshape(X.shape)
    speed = 0.5 * (U**2 + V**2)
    mins = grid_minima(np.where(np.isfinite(speed), speed, np.inf))
    s = np.stack([x[mins[:, 1]], y[mins[:, 0]]], axis=1)
    if starts is not None:
        s = np.concatenate([s, np.asarray(starts, float).reshape(-1, 2)])
    points = find_points(f, s, **finder_kw)
    status = "ok" if np.all(np.isfinite(speed)) else "non_finite"
    return Flow2D(x, y, U, V, speed, points, status)
