"""Loss landscape L(ε) of the delayed-activation task and its gradient.

``beta=None`` is the analytic limit (β → ∞, x_θ → ∞; the output switches at
t* = π/(2√ε)), with three regimes:

* early, ε > ε*:        L = T − t*,  ∂L/∂ε = +π/(4ε^{3/2})
* late, ε₀ ≤ ε ≤ ε*:    L = t* − T,  ∂L/∂ε = −π/(4ε^{3/2})
* never, ε < ε₀:        L = R,       ∂L/∂ε = 0   (the no-learning zone; all ε ≤ 0)

At exactly ε* and ε₀ the late branch is used (the kink convention).
A finite ``beta`` uses :mod:`ghostmech.canonical.finite_beta` (``method``
``"closed"`` quadrature or ``"euler"``), differentiated by ``jax.grad``.

``scale="raw"`` is the integral L itself; ``scale="per_T"`` is L/T (the
paper's plots; L/T ∈ [0, 1 + R/T]). Gradients scale the same way.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ghostmech.canonical._args import eps_array, is_traced, landscape_args, padded_call, x64
from ghostmech.canonical.closed_form import _split
from ghostmech.canonical.finite_beta import euler_loss, quadrature_loss

__all__ = ["loss", "loss_grad"]


def _bounds(T, R):
    return jnp.pi**2 / (4 * T**2), jnp.pi**2 / (4 * (T + R) ** 2)


def analytic_loss(eps, T, R):
    """Analytic-limit L(ε) (raw); broadcasts."""
    e_star, e_zero = _bounds(T, R)
    pos, _, root = _split(eps)
    t_star = jnp.where(pos, jnp.pi / (2 * root), T + R)
    gap = jnp.abs(t_star - T)  # T − t* (early) or t* − T (late); abs guards rounding at ε*
    return jnp.where(eps >= e_zero, gap, R)


def analytic_grad(eps, T, R):
    """Analytic-limit ∂L/∂ε (raw), late branch at exactly ε* and ε₀; broadcasts."""
    e_star, e_zero = _bounds(T, R)
    pos, _, root = _split(eps)
    slope = jnp.where(pos, jnp.pi / (4 * root**3), 0.0)
    return jnp.where(eps > e_star, slope, jnp.where(eps >= e_zero, -slope, 0.0))


def kernels(a: dict[str, Any]):
    """Scalar ``(loss, grad)`` functions of ε for validated landscape arguments ``a``."""
    T, R, beta, x_theta = a["T"], a["R"], a["beta"], a["x_theta"]
    div = T if a["scale"] == "per_T" else 1.0
    if beta is None:
        return (lambda e: analytic_loss(e, T, R) / div), (lambda e: analytic_grad(e, T, R) / div)
    if a["method"] == "closed":
        raw = functools.partial(quadrature_loss, T=T, R=R, beta=beta, x_theta=x_theta)
    else:
        raw = functools.partial(
            euler_loss, T=T, R=R, beta=beta, x_theta=x_theta, dt=a["dt"], clip=a["clip"]
        )

    def fn(e):
        return raw(e) / div

    return fn, jax.grad(fn)


def split_static(a: dict[str, Any]) -> tuple[dict[str, Any], tuple]:
    """Split validated arguments into traced numbers and a hashable static part for ``jit``."""
    analytic = a["beta"] is None
    static_keys = ["scale", "method", "dt", "clip"]
    if not analytic and a["method"] == "euler":
        static_keys += ["T", "R"]  # they fix the number of Euler steps
    static = tuple((k, a[k]) for k in static_keys) + (("analytic", analytic),)
    numbers = ("T", "R") if analytic else ("T", "R", "beta", "x_theta")
    dyn = {k: jnp.asarray(a[k], jnp.float64) for k in numbers if k not in static_keys}
    return dyn, static


def join(dyn: dict[str, Any], static: tuple) -> dict[str, Any]:
    a = dict(static)
    a.update(dyn)
    if a.pop("analytic"):
        a["beta"] = a["x_theta"] = None
    return a


@functools.partial(jax.jit, static_argnames=("which", "static"))
def _evaluate_jit(eps, dyn, *, which: int, static: tuple) -> Array:
    a = join(dyn, static)
    fn = kernels(a)[which]
    return fn(eps) if a["beta"] is None else jnp.vectorize(fn)(eps)


def _evaluate(which: int, eps, T, R, beta, x_theta, scale, method, dt, clip) -> Array:
    a = landscape_args(T, R, beta, x_theta, scale, method, dt, clip)
    dyn, static = split_static(a)
    eps = eps_array(eps)
    call = functools.partial(_evaluate_jit, dyn=dyn, which=which, static=static)
    if is_traced(eps) or any(is_traced(v) for v in dyn.values()):
        return call(eps)
    return padded_call(call, eps, fill=(1.0,))


@x64
def loss(
    eps: ArrayLike,
    T: float,
    R: float | None = None,
    beta: float | None = None,
    x_theta: float | None = None,
    scale: str = "raw",
    method: str = "closed",
    dt: float = 0.1,
    clip: float = 1e6,
) -> Float[Array, "..."]:
    """L(ε) = ∫₀^{T+R} (y − ŷ)² dt (or L/T with ``scale="per_T"``), elementwise in ``eps``.

    ``R`` defaults to ``T``. ``beta=None``: analytic limit (``x_theta``,
    ``method``, ``dt``, ``clip`` ignored). Finite ``beta``: ``x_theta``
    defaults to 10; ``method="closed"`` (quadrature) or ``"euler"`` (step
    ``dt``, x clipped at ``clip``).

    >>> from ghostmech.canonical import optimum
    >>> float(loss(0.0, 100.0)), round(float(loss(optimum(100.0), 100.0)), 9)
    (100.0, 0.0)
    """
    return _evaluate(0, eps, T, R, beta, x_theta, scale, method, dt, clip)


@x64
def loss_grad(
    eps: ArrayLike,
    T: float,
    R: float | None = None,
    beta: float | None = None,
    x_theta: float | None = None,
    scale: str = "raw",
    method: str = "closed",
    dt: float = 0.1,
    clip: float = 1e6,
) -> Float[Array, "..."]:
    """∂L/∂ε with the same arguments as :func:`loss` (analytic branches or ``jax.grad``)."""
    return _evaluate(1, eps, T, R, beta, x_theta, scale, method, dt, clip)
