"""Plain gradient descent on ε: ε_{k+1} = ε_k − η ∂L/∂ε(ε_k).

One run is a ``lax.scan`` over epochs; many runs (starts × learning rates,
broadcast against each other) are a ``vmap`` of it, compiled once per
landscape configuration (``T``, ``R``, ``beta``, ``x_theta`` and ``lr`` are
data, so changing them does not recompile).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ghostmech import _checks
from ghostmech.canonical._args import eps_array, is_traced, landscape_args, padded_call, x64
from ghostmech.canonical.landscape import join, kernels, split_static

__all__ = ["Descent", "descend"]

STATUS = {0: "ok", 1: "non-finite ε or loss"}


class Descent(eqx.Module):
    """Result of :func:`descend`; leading axes ``...`` = broadcast(eps_init, lr).

    eps, loss: [..., epochs+1] (index 0 = initial values); trapped: ε ended
    in the no-learning zone ε < ε₀ (where the analytic gradient is 0);
    plateau_end: first epoch with ε ≤ ε* (−1 if never); status: 0 ok,
    1 non-finite ε or loss met (see ``STATUS``).
    """

    eps: Float[Array, "... epochs_plus_1"]
    loss: Float[Array, "... epochs_plus_1"]
    trapped: Bool[Array, "..."]
    plateau_end: Int[Array, "..."]
    status: Int[Array, "..."]
    lr: Float[Array, "..."]
    eps_star: float | Float[Array, ""]
    eps_zero: float | Float[Array, ""]


def _run_one(eps0, lr, dyn, *, static, epochs: int, record: bool):
    loss_fn, grad_fn = kernels(join(dyn, static))

    def step(eps, _):
        new = eps - lr * grad_fn(eps)
        out = (new, loss_fn(new)) if record else None
        return new, out

    final, hist = jax.lax.scan(step, eps0, None, length=epochs)
    if not record:
        return final
    eps = jnp.concatenate([eps0[None], hist[0]])
    return eps, jnp.concatenate([loss_fn(eps0)[None], hist[1]])


@functools.partial(jax.jit, static_argnames=("static", "epochs", "record"))
def run_many(eps0, lr, dyn, *, static, epochs: int, record: bool):
    """vmap of one scanned descent over flat arrays ``eps0``, ``lr`` of equal length."""
    one = functools.partial(_run_one, static=static, epochs=epochs, record=record)
    return jax.vmap(one, in_axes=(0, 0, None))(eps0, lr, dyn)


def _check_lr(lr: Any) -> jax.Array:
    if is_traced(lr):
        return jnp.asarray(lr, jnp.float64)
    arr = eps_array(lr) if not isinstance(lr, str | None) else None
    if arr is None or not bool(jnp.all(jnp.isfinite(arr) & (arr > 0))):
        raise ValueError(f"`lr` (={lr!r}) must be positive finite number(s)")
    return arr


@x64
def descend(
    eps_init: ArrayLike,
    lr: ArrayLike,
    epochs: int,
    T: float,
    R: float | None = None,
    beta: float | None = None,
    x_theta: float | None = None,
    scale: str = "raw",
    method: str = "closed",
    dt: float = 0.1,
    clip: float = 1e6,
) -> Descent:
    """Run gradient descent on ε from every ``eps_init`` with every ``lr`` (broadcast).

    Landscape arguments as in :func:`ghostmech.canonical.loss` (``beta=None``:
    analytic gradient). ``eps_init`` and ``lr`` broadcast against each other,
    e.g. ``eps_init[:, None]`` and ``lr[None, :]`` for a starts × lrs grid.

    >>> from ghostmech.canonical import optimum
    >>> d = descend(10 * optimum(100.0), 1e-10, 3000, T=100.0)
    >>> int(d.plateau_end), bool(d.trapped)
    (1538, False)
    """
    a = landscape_args(T, R, beta, x_theta, scale, method, dt, clip)
    # The trajectories are kept in memory ([..., epochs+1] float64): bound the count.
    epochs = _checks.check_int_in_range("epochs", epochs, 1, 10**9)
    dyn, static = split_static(a)
    eps_init, lr = eps_array(eps_init), _check_lr(lr)
    call = functools.partial(_descend_jit, dyn=dyn, static=static, epochs=epochs)
    if any(is_traced(v) for v in (eps_init, lr, *dyn.values())):
        fields = call(eps_init, lr)
    else:  # pad the runs to a bucket size: one compile serves many batch sizes
        fields = padded_call(call, eps_init, lr, fill=(1.0, 1e-12))
    e_star = math.pi**2 / (4 * a["T"] ** 2)
    fields.update(eps_star=e_star, eps_zero=math.pi**2 / (4 * (a["T"] + a["R"]) ** 2))
    return Descent(**fields)


@functools.partial(jax.jit, static_argnames=("static", "epochs"))
def _descend_jit(eps_init, lr, *, dyn, static, epochs: int) -> dict[str, Any]:
    eps0, lrs = jnp.broadcast_arrays(eps_init, lr)
    shape = eps0.shape
    eps, loss = run_many(
        eps0.reshape(-1), lrs.reshape(-1), dyn, static=static, epochs=epochs, record=True
    )
    eps, loss = eps.reshape(*shape, epochs + 1), loss.reshape(*shape, epochs + 1)
    T, R = dyn.get("T", dict(static).get("T")), dyn.get("R", dict(static).get("R"))
    e_star, e_zero = jnp.pi**2 / (4 * T**2), jnp.pi**2 / (4 * (T + R) ** 2)
    reached = eps <= e_star
    finite = jnp.isfinite(eps).all(-1) & jnp.isfinite(loss).all(-1)
    return dict(
        eps=eps,
        loss=loss,
        trapped=eps[..., -1] < e_zero,
        plateau_end=jnp.where(reached.any(-1), jnp.argmax(reached, axis=-1), -1),
        status=jnp.where(finite, 0, 1),
        lr=lrs,
    )
