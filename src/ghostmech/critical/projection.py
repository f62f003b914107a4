"""Projections of one SGD step onto one scalar that sets the delay (rank one, Eq. 36).

**ε-projection (Eqs. 29–35).** The latent flow of a rank-one network (no input) is
F(κ) = −κ + nᵀ tanh(m κ + b) in time s = α·step. Near its speed minimum κ_g (F'(κ_g) = 0,
F > 0) the substitution x = F''(κ_g)(κ − κ_g)/2 gives ẋ = ε + x² with ε = F F''/2
(Eq. 29). If L depends on θ only through ε, one SGD step moves ε by −η‖∇_θ ε‖² ∂L/∂ε, so
the network is the canonical model with lr η‖∇_θ ε‖² and

    η_c = η_c^can(T' = αT, loss / T') / ‖∇_θ ε‖²,                     (Eq. 23 mapped)

since the RNN loss Σ_t (z_t − ŷ_t)²/T is ∫ds (·)/T' in the time s.

**Timing projection.** If L depends on θ only through the step t* at which κ first
crosses the threshold κ_θ (β → ∞: L = |T − t*|/T for t* < 2T, 1 beyond), a step from
t* ≲ T moves t* by η‖∇_θ t*‖²/T, and the network is trapped when t* passes 2T:

    η_c = T² / ‖∇_θ t*‖².

For a uniform ramp κ̇ = v (t* ∝ 1/v, ∇t* ∝ T²∇v) this is a T⁻² law; for the canonical
ghost (t* = π/(2√ε)) it is π⁴/(4T⁴), 8/3 of Eq. 23 (t* is convex in ε, the linear step
undershoots). Both derivations: docs/theory.md, "Predicting the critical learning rate".
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ghostmech.canonical import critical_lr
from ghostmech.training.losses import forward

__all__ = [
    "latent_flow",
    "ghost_epsilon",
    "projected_lr",
    "epsilon_projection_lr",
    "crossing_step",
    "timing_projection_lr",
    "output_crossing_step",
    "output_timing_lr",
]


def latent_flow(net):
    """``κ -> F(κ)`` of a rank-one, input-free network: −κ + nᵀ tanh(m κ + b)."""
    m, n, b = net.m[:, 0], net.nT[:, 0], net.b
    return lambda k: -k + jnp.dot(n, jnp.tanh(m * k + b))


def ghost_epsilon(f, *, lo: float, hi: float, n_grid: int = 801):
    """``(ε, κ_g, interior)`` of a 1-D flow ``f``: ε = F F''/2 at the minimum of F on
    [lo, hi] (grid + Newton on F'; the last Newton step keeps the implicit derivative
    ∂κ_g/∂θ = −∂_θF'/F''). ``interior`` is False when the minimum sits on an end of the
    interval (no speed minimum inside: no ghost).

    >>> import jax.numpy as jnp
    >>> eps, k, inside = ghost_epsilon(lambda x: 0.5 + 2.0 * (x - 0.3) ** 2, lo=-1.0, hi=1.0)
    >>> round(float(eps), 4), round(float(k), 4), bool(inside)
    (1.0, 0.3, True)
    """
    d1 = jax.grad(f)
    d2 = jax.grad(d1)
    grid = jnp.linspace(lo, hi, n_grid)
    j = jnp.argmin(jax.vmap(f)(grid))
    interior = (j > 0) & (j < n_grid - 1)
    k = jax.lax.stop_gradient(grid[j])
    for _ in range(20):
        k = jax.lax.stop_gradient(k - d1(k) / d2(k))
    k = k - d1(k) / d2(k)  # differentiable step: exact first derivative at the root
    eps = f(k) * d2(k) / 2
    return eps, k, interior


def projected_lr(eps_of, theta, *, time: float):
    """(η_c, ε, ‖∇_θ ε‖²) for any ``eps_of(θ)``: Eq. 23 (loss / T', T' = ``time``) divided
    by ‖∇_θ ε‖² (module docstring).

    >>> import jax.numpy as jnp
    >>> from ghostmech.canonical import critical_lr
    >>> eta, _, _ = projected_lr(lambda t: t[0], jnp.array([1e-3]), time=100.0)
    >>> eta == critical_lr(100.0, scale="per_T")
    True
    """
    eps, grad = jax.value_and_grad(eps_of)(theta)
    g2 = float(jnp.dot(grad, grad))
    return critical_lr(time, scale="per_T") / g2, float(eps), g2


def epsilon_projection_lr(problem, theta, *, delay: int, kappa0: float, kappa_theta: float):
    """(η_c, ε, ‖∇_θ ε‖², interior) of the ε-projection at θ for a rank-one network, ε of
    its latent flow between κ₀ and κ_θ, T' = αT (module docstring)."""
    alpha = problem.net(theta).alpha

    def eps_of(t):
        return ghost_epsilon(latent_flow(problem.net(t)), lo=kappa0, hi=kappa_theta)[0]

    eta, eps, g2 = projected_lr(eps_of, theta, time=alpha * delay)
    _, _, interior = ghost_epsilon(latent_flow(problem.net(theta)), lo=kappa0, hi=kappa_theta)
    return eta, eps, g2, bool(interior)


def crossing_step(net, *, steps: int):
    """t*: the (linearly interpolated) step at which κ_t first reaches κ_θ (Eq. 36's
    threshold), following κ_{t+1} = (1−α)κ_t + α nᵀ tanh(m κ_t + b) from κ₀ = nᵀ r₀;
    ``steps`` (= 2T) if it never does within the trial."""
    m, n, b, a = net.m[:, 0], net.nT[:, 0], net.b, net.alpha
    theta = net.readout.theta

    def body(k, _):
        return (1 - a) * k + a * jnp.dot(n, jnp.tanh(m * k + b)), k

    k_last, ks = jax.lax.scan(body, jnp.dot(n, net.r0), None, length=steps)
    ks = jnp.concatenate([ks, k_last[None]])  # κ_0 .. κ_steps
    above = ks >= theta
    j = jnp.argmax(above)  # first index with κ ≥ θ
    jm = jnp.maximum(j - 1, 0)
    frac = (theta - ks[jm]) / jnp.where(ks[j] != ks[jm], ks[j] - ks[jm], 1.0)
    t = jm + jnp.clip(frac, 0.0, 1.0)
    # readout at step t reads κ_{t+1}: the output switches at step t* − 1
    return jnp.where(above.any() & (j > 0), t - 1.0, float(steps))


def timing_projection_lr(problem, theta, *, delay: int):
    """(η_c, t*, ‖∇_θ t*‖²) of the timing projection at θ (module docstring)."""
    t, g = jax.value_and_grad(lambda th: crossing_step(problem.net(th), steps=2 * delay))(theta)
    g2 = float(jnp.dot(g, g))
    return (delay**2 / g2 if g2 > 0 else math.inf), float(t), g2


def output_crossing_step(net, task):
    """t* of any network on DA: the (linearly interpolated) step at which the output z_t of
    the task's single trial first reaches ½ (the accuracy threshold); 2T if it never does.
    For the Eq. 36 readout this is where κ_{t+1} reaches κ_θ (`crossing_step`)."""
    batch = task.all_trials()
    z = forward(net, jnp.asarray(batch.inputs, jnp.float64), key=None)[1][:, 0, 0]
    steps = z.shape[0]
    above = z >= 0.5
    j = jnp.argmax(above)
    jm = jnp.maximum(j - 1, 0)
    frac = (0.5 - z[jm]) / jnp.where(z[j] != z[jm], z[j] - z[jm], 1.0)
    t = jm + jnp.clip(frac, 0.0, 1.0)
    return jnp.where(above.any() & (j > 0), t, float(steps))


def output_timing_lr(problem, theta, *, delay: int):
    """(η_c, t*, ‖∇_θ t*‖²) of the timing projection with t* from the output
    (`output_crossing_step`): any network on DA."""
    t, g = jax.value_and_grad(lambda th: output_crossing_step(problem.net(th), problem.task))(theta)
    g2 = float(jnp.dot(g, g))
    return (delay**2 / g2 if g2 > 0 else math.inf), float(t), g2
