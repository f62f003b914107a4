"""Closed-form solution of the canonical ghost model dx/dt = ε + x², x(0) = 0.

* ε > 0: x(t) = √ε tan(√ε t), blowing up at t* = π/(2√ε);
* ε = 0: x ≡ 0;
* ε < 0: x(t) = −√(−ε) tanh(√(−ε) t) (fixed points ±√(−ε)).

All three are one analytic function x = ε t h(ε t²) with
h(u) = tan(√u)/√u (u > 0), tanh(√−u)/√−u (u < 0), h(0) = 1, which is what the
code evaluates (with a Taylor series near u = 0), so values and derivatives
are smooth through the saddle-node bifurcation at ε = 0. Every function
broadcasts over its arguments and works under ``jit``/``vmap``/``grad``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ghostmech.canonical._args import eps_array, positive, x64

__all__ = ["trajectory", "blowup_time", "threshold_time", "dx_deps"]

_SERIES_U = 1e-4  # |u| below which the Taylor series is exact to ~1e-17


def _split(eps: Array) -> tuple[Array, Array, Array]:
    """Safe √|ε| and masks, so that no branch of a ``where`` produces nan gradients."""
    pos = eps > 0
    neg = eps < 0
    root = jnp.sqrt(jnp.where(eps == 0, 1.0, jnp.abs(eps)))
    return pos, neg, root


def _t_star(eps: Array) -> Array:
    pos, _, root = _split(eps)
    return jnp.where(pos, jnp.pi / (2 * root), jnp.inf)


@x64
def blowup_time(eps: ArrayLike) -> Float[Array, "..."]:
    """Blow-up time t* = π/(2√ε) of x(t; ε); ``inf`` for ε ≤ 0 (x stays bounded)."""
    return _jit_t_star(eps_array(eps))


def _x(t: Array, eps: Array) -> Array:
    u = eps * t * t
    pos, neg, root = _split(eps)
    small = jnp.abs(u) < _SERIES_U
    a = root * t  # √|ε| t
    a_safe = jnp.where(small | (a == 0), 1.0, a)
    h_pos = jnp.tan(a_safe) / a_safe
    h_neg = jnp.tanh(a_safe) / a_safe
    h_ser = 1 + u / 3 + 2 * u**2 / 15 + 17 * u**3 / 315
    h = jnp.where(small, h_ser, jnp.where(pos, h_pos, h_neg))
    x = eps * t * h
    blown = pos & (t >= _t_star(eps))
    return jnp.where(blown, jnp.inf, x)


@x64
def trajectory(t: ArrayLike, eps: ArrayLike) -> Float[Array, "..."]:
    """x(t; ε) solving dx/dt = ε + x², x(0) = 0 (closed form, see module docstring).

    Returns ``inf`` for t ≥ t* when ε > 0. Broadcasts ``t`` against ``eps``.

    >>> float(trajectory(1.0, 0.0)), round(float(trajectory(1.0, -1.0)), 6)
    (0.0, -0.761594)
    """
    return _jit_x(jnp.asarray(t, jnp.float64), eps_array(eps))


def _dx(t: Array, eps: Array) -> Array:
    u = eps * t * t
    pos, _, root = _split(eps)
    small = jnp.abs(u) < _SERIES_U
    a = root * t
    a_safe = jnp.where(small | (a == 0), 1.0, a)
    root_safe = jnp.where(small, 1.0, root)
    sec2 = 1 / jnp.cos(a_safe) ** 2
    d_pos = (jnp.tan(a_safe) + a_safe * sec2) / (2 * root_safe)
    d_neg = (jnp.tanh(a_safe) + a_safe / jnp.cosh(a_safe) ** 2) / (2 * root_safe)
    d_ser = t * (1 + 2 * u / 3 + 2 * u**2 / 5 + 68 * u**3 / 315)
    d = jnp.where(small, d_ser, jnp.where(pos, d_pos, d_neg))
    blown = pos & (t >= _t_star(eps))
    return jnp.where(blown, jnp.inf, d)


_jit_t_star, _jit_x, _jit_dx = jax.jit(_t_star), jax.jit(_x), jax.jit(_dx)


@x64
def dx_deps(t: ArrayLike, eps: ArrayLike) -> Float[Array, "..."]:
    """∂x(t; ε)/∂ε.

    ε > 0: [tan(√ε t) + √ε t sec²(√ε t)] / (2√ε);
    ε < 0: [tanh(√−ε t) + √−ε t sech²(√−ε t)] / (2√−ε);  ε = 0: t.
    ``inf`` for t ≥ t*.
    """
    return _jit_dx(jnp.asarray(t, jnp.float64), eps_array(eps))


@x64
def threshold_time(eps: ArrayLike, x_theta: float) -> Float[Array, "..."]:
    """Time t_θ at which x(t; ε) first reaches x_θ > 0.

    t_θ = arctan(x_θ/√ε)/√ε ≈ t* − 1/x_θ for ε > 0; ``inf`` for ε ≤ 0.
    """
    x_theta = positive("x_theta", x_theta)
    eps = eps_array(eps)
    pos, _, root = _split(eps)
    return jnp.where(pos, jnp.arctan(x_theta / root) / root, jnp.inf)
