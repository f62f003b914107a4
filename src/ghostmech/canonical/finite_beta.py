"""Loss of the canonical model at finite output confidence β (scalar kernels).

Output y(t) = σ(β(x(t) − x_θ)), y = 1 once x has blown up (t ≥ t*); target
ŷ = 0 on [0, T), 1 on [T, T+R]; L(ε) = ∫₀^{T+R} (y − ŷ)² dt.

Two ways to evaluate L, both differentiable by ``jax.grad``:

* ``closed``: Gauss–Legendre quadrature (16 nodes per panel) on the closed
  form x(t; ε). Panel break points: 0, T, T+R, eight uniform points, a
  geometric mesh towards t = 0 and a geometric mesh (ratio 2, down to
  (T+R)·2⁻⁴⁴) towards t*, where the output switches on ever shorter time
  scales (x ≈ 1/(t* − t)). The break points move with ε, so ``jax.grad`` gives
  the exact derivative of the quadrature rule (Leibniz terms included; the
  integrand is continuous at the moving points).
* ``euler``: the authors' explicit Euler scheme: x₀ = 0,
  x_{k+1} = min(x_k + Δt(ε + x_k²), clip); the output y_k = σ(β(x_k − x_θ)) is
  read at t_k = kΔt before the update; ŷ_k = 1[k ≥ round(T/Δt)];
  L = Δt Σ_{k<n} (y_k − ŷ_k)², n = round((T+R)/Δt) (a left Riemann sum).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech.canonical.closed_form import _t_star, _x

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_FAR = 2.0 ** -np.arange(0, 45)  # fractions of T+R: geometric mesh towards t*
_NEAR = 2.0 ** -np.arange(1, 21)  # geometric mesh towards t = 0
_UNIFORM = np.linspace(0.0, 1.0, 9)


def _break_points(eps, T, R):
    span = T + R
    t_star = _t_star(eps)
    pts = jnp.concatenate(
        [
            span * jnp.asarray(_UNIFORM),
            span * jnp.asarray(_NEAR),
            t_star - span * jnp.asarray(_FAR),
            jnp.stack([jnp.asarray(T, jnp.float64), jnp.minimum(t_star, span)]),
        ]
    )
    return jnp.sort(jnp.clip(pts, 0.0, span)), t_star


def quadrature_loss(eps, T, R, beta, x_theta):
    """L(ε) by panel Gauss–Legendre quadrature on the closed form (scalar ``eps``)."""
    pts, t_star = _break_points(eps, T, R)
    a, b = pts[:-1], pts[1:]
    mid, half = (a + b) / 2, (b - a) / 2
    t = mid[:, None] + half[:, None] * jnp.asarray(_GL_X)[None, :]
    w = half[:, None] * jnp.asarray(_GL_W)[None, :]
    target = (mid >= T).astype(jnp.float64)[:, None]
    blown = (mid >= t_star)[:, None]
    x = _x(jnp.where(blown, 0.0, t), eps)
    y = jnp.where(blown, 1.0, jax.nn.sigmoid(beta * (x - x_theta)))
    return jnp.sum(w * (y - target) ** 2)


def euler_loss(eps, T, R, beta, x_theta, *, dt, clip):
    """L(ε) by explicit Euler with step ``dt`` and x clipped at ``clip`` (scalar ``eps``).

    ``T`` and ``R`` must be concrete numbers here (they fix the number of steps).
    """
    n = int(round((T + R) / dt))
    n_T = int(round(T / dt))
    target = (jnp.arange(n) >= n_T).astype(jnp.float64)

    def step(x, tgt):
        y = jax.nn.sigmoid(beta * (x - x_theta))
        x_next = jnp.minimum(x + dt * (eps + x * x), clip)
        return x_next, dt * (y - tgt) ** 2

    _, terms = jax.lax.scan(step, jnp.zeros((), jnp.float64), target)
    return jnp.sum(terms)
