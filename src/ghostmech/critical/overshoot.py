"""One-step overshoot: the smallest lr whose single step from θ lands in the no-learning zone.

Eq. 23 of the paper is this question asked of the canonical model at ε*⁺: the smallest η
with ε* − η ∂L/∂ε ≤ ε₀. Asked of a network at a point θ of its training path, with the
no-learning zone tested on the network itself (L > 0.9 and ‖∇L‖ < 1e-6, Fig. 3B's rule),
it needs no reduction to ε: η_trap(θ) = min{η : θ − η∇L(θ) is trapped}. Along the
gradient-flow path, gradient descent at lr η is first exposed where η_trap falls below η,
so the predicted η_c is the minimum of η_trap over the path (docs/theory.md,
"Predicting the critical learning rate", overshoot).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["trapped_fn", "overshoot_lr", "LOSS_TRAPPED", "GRAD_TRAPPED"]

LOSS_TRAPPED = 0.9
GRAD_TRAPPED = 1e-6


def trapped_fn(loss):
    """``θ -> bool`` array: L(θ) > 0.9 and ‖∇L(θ)‖ < 1e-6, or L(θ) not finite."""
    vg = jax.value_and_grad(loss)

    @jax.jit
    def trapped(theta):
        val, g = vg(theta)
        return ~jnp.isfinite(val) | ((val > LOSS_TRAPPED) & (jnp.linalg.norm(g) < GRAD_TRAPPED))

    return trapped


def overshoot_lr(
    loss,
    theta,
    *,
    trapped=None,
    lo: float = 1e-7,
    hi: float = 1e3,
    n_grid: int = 61,
    n_bisect: int = 30,
) -> float:
    """η_trap(θ): scan ``n_grid`` log-spaced lrs in [lo, hi], then bisect (in log η) between
    the last untrapped and the first trapped; inf if no lr of the scan traps."""
    trapped = trapped or trapped_fn(loss)
    g = jax.jit(jax.grad(loss))(theta)
    lrs = np.logspace(math.log10(lo), math.log10(hi), n_grid)
    flags = [bool(trapped(theta - lr * g)) for lr in lrs]
    if not any(flags):
        return math.inf
    j = flags.index(True)
    if j == 0:
        return float(lrs[0])
    a, b = math.log(lrs[j - 1]), math.log(lrs[j])
    for _ in range(n_bisect):
        mid = 0.5 * (a + b)
        if bool(trapped(theta - math.exp(mid) * g)):
            b = mid
        else:
            a = mid
    return math.exp(b)
