"""Speed (kinetic energy) of a flow and argument checks shared by the finder.

For ẋ = f(x) (docs/model.md §1, Eq. 39)::

    q(x) = ½‖f(x)‖²,   ∇q(x) = J(x)ᵀ f(x),   J = ∂f/∂x.

Fixed points are zeros of q; slow points are local minima of q with f ≠ 0.

>>> import jax.numpy as jnp
>>> float(speed(lambda x: 0.5 + x**2, jnp.array([1.0])))
1.125
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ghostmech._checks import check_positive

__all__ = ["speed", "speed_grad", "check_field", "check_starts", "check_tol"]


def speed(f: Callable, x: Float[Array, " n"]) -> Float[Array, ""]:
    """q(x) = ½‖f(x)‖²."""
    fx = f(x)
    return 0.5 * jnp.vdot(fx, fx)


def speed_grad(f: Callable, x: Float[Array, " n"]) -> Float[Array, " n"]:
    """∇q(x) = J(x)ᵀ f(x), by one vector-Jacobian product."""
    fx, vjp = jax.vjp(f, x)
    return vjp(fx)[0]


def check_starts(starts) -> np.ndarray:
    """``starts`` as a float64 array [n_starts, n]; raise unless non-empty and finite."""
    arr = np.asarray(starts, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"`starts` (shape {arr.shape}) must be a non-empty array [n_starts, n]")
    if not np.all(np.isfinite(arr)):
        raise ValueError("`starts` must be finite; it contains NaN or inf")
    return arr


def check_field(f: Callable, n: int) -> None:
    """Raise unless ``f`` maps a float64 vector [n] to a finite-dtype vector [n]."""
    if not callable(f):
        raise ValueError(f"`f` (={f!r}) must be a callable x -> f(x)")
    with jax.enable_x64(True):
        out = jax.eval_shape(f, jax.ShapeDtypeStruct((n,), jnp.float64))
    shape = getattr(out, "shape", None)
    if shape != (n,):
        raise ValueError(f"`f` must map a state of shape ({n},) to shape ({n},); got {shape}")


def check_tol(name: str, value) -> float:
    """A tolerance must be a positive finite number."""
    return check_positive(name, value)
