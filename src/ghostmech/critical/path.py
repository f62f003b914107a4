"""The gradient-flow path from an initial network through its plateau and drop.

Gradient descent at any lr below η_c follows, to first order in the lr, the same path as
the gradient flow θ̇ = −∇L; the lr sets only the speed along it. The path is traced by
normalised steps θ ← θ − δ ∇L/‖∇L‖ of length δ in parameter space, so its cost does
not depend on how flat the plateau is (a plateau of 10⁵ SGD epochs takes a few hundred
steps). A step that raises the loss is undone and δ halved (in a narrow valley after the
drop a fixed δ would zigzag across it). It stops once L < ``stop_loss`` (past the drop)
or after ``max_steps``; every evaluated step is recorded (an undone step repeats a row).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive, check_positive_int

__all__ = ["Path", "gradient_flow_path"]

_CHUNK = 50


@dataclass(frozen=True)
class Path:
    """``thetas`` ``[steps, P]``, ``loss`` and ``grad_norm`` ``[steps]``; ``status``
    ``"ok"`` (reached ``stop_loss``) or ``"max_steps"``."""

    thetas: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    status: str


def gradient_flow_path(
    loss, theta0, *, step: float = 0.01, max_steps: int = 4000, stop_loss: float = 0.05
) -> Path:
    """Normalised gradient descent from ``theta0`` (module docstring)."""
    check_positive("step", step)
    max_steps = check_positive_int("max_steps", max_steps)
    vg = jax.value_and_grad(loss)

    def one(carry, _):
        theta, size, prev_val, prev_theta, prev_g = carry
        val, g = vg(theta)
        bad = val > prev_val
        theta = jnp.where(bad, prev_theta, theta)
        g = jnp.where(bad, prev_g, g)
        val = jnp.where(bad, prev_val, val)
        size = jnp.where(bad, size / 2, size)
        gn = jnp.linalg.norm(g)
        new = theta - size * g / jnp.where(gn > 0, gn, 1.0)
        return (new, size, val, theta, g), (theta, val, gn)

    chunk = jax.jit(lambda th: jax.lax.scan(one, th, None, length=_CHUNK))
    thetas, losses, norms = [], [], []
    theta0 = jnp.asarray(theta0)
    carry = (
        theta0,
        jnp.asarray(step, theta0.dtype),
        jnp.asarray(jnp.inf, theta0.dtype),
        theta0,
        jnp.zeros_like(theta0),
    )
    status = "max_steps"
    while len(losses) < max_steps:
        carry, (ths, vals, gns) = chunk(carry)
        vals = np.asarray(vals)
        stop = np.flatnonzero((vals < stop_loss) | ~np.isfinite(vals))
        end = int(stop[0]) + 1 if stop.size else _CHUNK
        thetas.append(np.asarray(ths[:end]))
        losses.extend(vals[:end].tolist())
        norms.extend(np.asarray(gns[:end]).tolist())
        if stop.size:
            status = "ok" if np.isfinite(vals[end - 1]) else "nonfinite"
            break
    return Path(np.concatenate(thetas), np.asarray(losses), np.asarray(norms), status)
