"""Ghost scale ε, null vectors, dwell time and a bottleneck-passage check (docs/model.md §1).

At a slow point x_g of ẋ = f(x) the Jacobian J is singular: u = f/‖f‖ is a
left null vector (Jᵀf = 0) and v (Jv = 0, the smallest right singular vector)
the right one. Along x = x_g + s v the flow reduces to::

    ṡ ≈ a + b s²,  a = uᵀf(x_g) / (uᵀv),  b = uᵀ D²f(x_g)[v, v] / (2 uᵀv),

and z = b s gives ż = ε + z² with ε = a·b (sign-free in u and v). The passage
time through the bottleneck tends to π/√ε as ε → 0.

>>> import jax.numpy as jnp
>>> g = ghost_epsilon(lambda x: 1e-4 + x**2, jnp.zeros(1))
>>> round(float(g.eps), 8), round(float(dwell_time(g.eps)), 2)
(0.0001, 314.16)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from scipy.integrate import solve_ivp

from ghostmech._checks import check_positive

__all__ = ["GhostInfo", "Passage", "ghost_epsilon", "dwell_time", "passage_time"]


class GhostInfo(eqx.Module):
    """ε = a·b, the reduction coefficients and the null vectors (uᵀv > 0)."""

    eps: Float[Array, ""]
    a: Float[Array, ""]
    b: Float[Array, ""]
    u: Float[Array, " n"]
    v: Float[Array, " n"]


def ghost_epsilon(f: Callable, x: Float[Array, " n"]) -> GhostInfo:
    """Canonical ε of the bottleneck at the slow point ``x`` (vmappable; float64 advised)."""
    fx = f(x)
    J = jax.jacfwd(f)(x)
    u = fx / jnp.linalg.norm(fx)
    v = jnp.linalg.svd(J)[2][-1]
    uv = jnp.vdot(u, v)
    v, uv = v * jnp.sign(uv), jnp.abs(uv)

    def df_v(y):
        return jax.jvp(f, (y,), (v,))[1]

    d2 = jax.jvp(df_v, (x,), (v,))[1]
    a = jnp.vdot(u, fx) / uv
    b = jnp.vdot(u, d2) / (2.0 * uv)
    return GhostInfo(a * b, a, b, u, v)


def dwell_time(eps):
    """Predicted passage time π/√ε (NaN where ε ≤ 0). Same time unit as f."""
    eps = np.asarray(eps, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(eps > 0, np.pi / np.sqrt(np.where(eps > 0, eps, 1.0)), np.nan)


@dataclass(frozen=True)
class Passage:
    """Measured time to cross s ∈ [−s0, s0] vs π/√ε and the finite-window value
    (2/√ε)·arctan(s0·√(b/a)); ``status`` is ``"ok"`` or ``"no_crossing"``."""

    measured: float
    predicted: float
    predicted_window: float
    window: float
    status: str


def passage_time(
    f: Callable,
    x_g,
    *,
    window: float | None = None,
    t_max: float | None = None,
    rtol: float = 1e-8,
) -> Passage:
    """Integrate ẋ = f(x) through the bottleneck at the ghost ``x_g`` (scipy LSODA).

    Starts at x_g − σ s0 v (σ = sign a, the direction of travel), stops when
    s(t) = uᵀ(x − x_g)/(uᵀv) reaches σ s0. Default s0 = 1/|b| (|z| ≤ 1 in z = b s);
    the window error of π/√ε is then about 2√ε/π. ``t_max`` defaults to 20 π/√ε.
    """
    with jax.enable_x64(True):
        x_g = jnp.asarray(x_g, dtype=jnp.float64)
        g = eqx.filter_jit(ghost_epsilon)(f, x_g)
        eps, a, b = float(g.eps), float(g.a), float(g.b)
        u, v = np.asarray(g.u), np.asarray(g.v)
        if not eps > 0:
            raise ValueError(f"`x_g` is not a ghost: its ε (={eps!r}) must be > 0")
        s0 = 1.0 / abs(b) if window is None else check_positive("window", window)
        pred = float(dwell_time(eps))
        t_max = 20.0 * pred if t_max is None else check_positive("t_max", t_max)
        rtol = check_positive("rtol", rtol)
        f_jit = jax.jit(lambda y: f(y))  # closes over the arrays: cheap per call
        jac_jit = jax.jit(lambda y: jax.jacfwd(f)(y))
        xg = np.asarray(x_g)
        sigma = float(np.sign(a))
        uv = float(u @ v)

        def rhs(_t, x):
            return np.asarray(f_jit(jnp.asarray(x)))

        def crossed(_t, x):
            return sigma * float(u @ (x - xg)) / uv - s0

        def jac(_t, x):
            return np.asarray(jac_jit(jnp.asarray(x)))

        crossed.terminal, crossed.direction = True, 1.0
        # LSODA: the transverse directions are fast, the bottleneck slow (stiff)
        sol = solve_ivp(
            rhs,
            (0.0, t_max),
            xg - sigma * s0 * v,
            method="LSODA",
            jac=jac,
            events=crossed,
            rtol=rtol,
            atol=rtol * 1e-2,
        )
    hit = len(sol.t_events[0]) > 0
    window_pred = 2.0 / np.sqrt(eps) * np.arctan(s0 * np.sqrt(b / a))
    return Passage(
        float(sol.t_events[0][0]) if hit else float("nan"),
        pred,
        float(window_pred),
        s0,
        "ok" if hit else "no_crossing",
    )
