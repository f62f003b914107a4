"""Systems with answers known in closed form, for the dynamics tests.

Each field is an ``eqx.Module`` so the jitted finder compiles once per type.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np


class Canonical(eqx.Module):
    """ẋ = ε + x²: ε < 0 → ±√−ε (stable −, unstable +); ε > 0 → ghost at 0 with ε."""

    eps: jnp.ndarray = eqx.field(converter=jnp.asarray)

    def __call__(self, x):
        return self.eps + x**2


class PlantedGhost(eqx.Module):
    """f(x) = Q g(Qᵀx), g(y) = (ε + y₁², −y₂ + c y₁, −y₃, …): ghost at 0 with ε,
    left null vector u = Q e₁, right null vector v ∝ Q (1, c, 0, …)."""

    Q: jnp.ndarray = eqx.field(converter=jnp.asarray)
    eps: jnp.ndarray = eqx.field(converter=jnp.asarray)
    c: jnp.ndarray = eqx.field(converter=jnp.asarray)

    def __call__(self, x):
        y = self.Q.T @ x
        g = jnp.concatenate([jnp.stack([self.eps + y[0] ** 2, -y[1] + self.c * y[0]]), -y[2:]])
        return self.Q @ g


class Linear(eqx.Module):
    """ẋ = A x (a line attractor when A has one zero eigenvalue)."""

    A: jnp.ndarray = eqx.field(converter=jnp.asarray)

    def __call__(self, x):
        return self.A @ x


class SNIC(eqx.Module):
    """Planar oscillator near a SNIC: on the invariant circle r = 1, θ̇ = ω − sin θ.
    ω > 1: limit cycle of period 2π/√(ω²−1) with a ghost near (0, 1), ε ≈ (ω−1)/2;
    unstable focus at the origin (eigenvalues 1 ± iω)."""

    omega: jnp.ndarray = eqx.field(converter=jnp.asarray)

    def __call__(self, z):
        x, y = z[0], z[1]
        r2 = x**2 + y**2
        w = self.omega - y
        return jnp.stack([x * (1 - r2) - y * w, y * (1 - r2) + x * w])


class Escape(eqx.Module):
    """ẋ = x / (1 + x²)²: unstable fixed point at 0; q → 0 as |x| → ∞ (starts far out diverge)."""

    def __call__(self, x):
        return x / (1 + x**2) ** 2


def orthogonal(n: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def two_population(n: int, eps: float, A: float = 2.0, g: float = 1.0):
    """Rank-1 network whose latent flow F(κ) = −κ + A tanh(gκ) + C has a ghost of scale ε.

    Population 1 (n/2 neurons): m = g, b = 0, n_i = 2A/n. Population 2: m = 0,
    b = 1, n_i = 2C/(n tanh 1), so nᵀ tanh(mκ + b) = A tanh(gκ) + C. The local
    minimum of F sits at κ_g = −arccosh(√(Ag))/g with F″(κ_g) = −2Ag² tanh(gκ_g)
    sech²(gκ_g); C is chosen so F(κ_g) = 2ε/F″(κ_g), i.e. F F″/2 = ε.
    Returns (m [n], nT [n], b [n], κ_g, C).
    """
    kg = -np.arccosh(np.sqrt(A * g)) / g
    d2 = -2 * A * g**2 * np.tanh(g * kg) / np.cosh(g * kg) ** 2
    C = 2 * eps / d2 - (-kg + A * np.tanh(g * kg))
    h = n // 2
    m = np.r_[np.full(h, g), np.zeros(n - h)]
    nT = np.r_[np.full(h, 2 * A / n), np.full(n - h, 2 * C / (n * np.tanh(1.0)))]
    b = np.r_[np.zeros(h), np.ones(n - h)]
    return m, nT, b, kg, C


def hopfield_rank1(n: int, gain: float, seed: int):
    """W = gain ξξᵀ/n with ξ ∈ {±1}ⁿ, b = 0: fixed points 0 and ±a ξ with a = tanh(gain a)."""
    xi = np.random.default_rng(seed).choice([-1.0, 1.0], size=n)
    return gain * np.outer(xi, xi) / n, xi
