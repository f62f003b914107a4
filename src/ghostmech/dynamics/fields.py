"""Vector fields f: ℝᴺ → ℝᴺ for the finder, built from arrays or a network.

Every field here is an ``eqx.Module`` (its arrays are pytree leaves), so a jitted
finder compiles once per shape and is reused across checkpoints.

* :class:`RNNField` - the rate network of docs/model.md §2 with the input held constant::

      f(r) = α (−r + tanh(W r + W_in u + b))

  For α = Δt/τ this is G(r) − r for the Euler map G of Eq. 47 (time unit: one
  step); for α = 1 it is τ ṙ (time unit: τ). Fixed points do not depend on α;
  eigenvalues scale with α and ghost ε with α².
* :class:`LatentField` - the exact latent flow of a rank-K network (Eq. 25)::

      F(κ) = α (−κ + Nᵀ tanh(M κ + W_in u + b)),  κ ∈ ℝᴷ.
* :class:`MapField` - f(x) = G(x) − x for any discrete map G.

>>> import jax.numpy as jnp
>>> f = RNNField(w=jnp.eye(2), b=jnp.zeros(2))
>>> f(jnp.zeros(2)).tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ghostmech._checks import check_nonnegative, check_positive, check_positive_int

__all__ = [
    "RNNField",
    "LatentField",
    "MapField",
    "rnn_field",
    "latent_field",
    "from_network",
    "sample_starts",
]


def _finite_array(name: str, value, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != ndim or arr.dtype.kind not in "iuf":
        raise ValueError(f"`{name}` (shape {arr.shape}) must be a real array with {ndim} dims")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite; it has {np.sum(~np.isfinite(arr))} NaN/inf")
    return arr


def _drive(w_in, u, b):
    return b if w_in is None else b + w_in @ u


class RNNField(eqx.Module):
    """f(r) = α (−r + tanh(W r + W_in u + b)); ``w`` [n, n], ``b`` [n], ``w_in`` [n, n_in]."""

    w: Float[Array, "n n"]
    b: Float[Array, " n"]
    w_in: Float[Array, "n n_in"] | None = None
    u: Float[Array, " n_in"] | None = None
    alpha: Float[Array, ""] | float = 1.0  # an array in the constructors: no recompiles

    def __call__(self, r: Float[Array, " n"]) -> Float[Array, " n"]:
        return self.alpha * (-r + jnp.tanh(self.w @ r + _drive(self.w_in, self.u, self.b)))


class LatentField(eqx.Module):
    """F(κ) = α (−κ + nTᵀ tanh(m κ + W_in u + b)); ``m``, ``nT`` [n, k]."""

    m: Float[Array, "n k"]
    nT: Float[Array, "n k"]
    b: Float[Array, " n"]
    w_in: Float[Array, "n n_in"] | None = None
    u: Float[Array, " n_in"] | None = None
    alpha: Float[Array, ""] | float = 1.0

    def __call__(self, kappa: Float[Array, " k"]) -> Float[Array, " k"]:
        h = jnp.tanh(self.m @ kappa + _drive(self.w_in, self.u, self.b))
        return self.alpha * (-kappa + self.nT.T @ h)


class MapField(eqx.Module):
    """f(x) = G(x) − x: the fixed points of the map G are the zeros of f.

    The finder's kinds then describe the flow ẋ = G(x) − x (eigenvalues of G′ − I);
    map stability is |eig(G′)| < 1, i.e. ``eigval_J_xstar + 1`` inside the unit circle.
    """

    G: Callable

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        return self.G(x) - x


def _input(w_in, u):
    if w_in is None:
        return None, None
    w_in = _finite_array("W_in", w_in, 2)
    u = np.zeros(w_in.shape[1]) if u is None else _finite_array("u", np.atleast_1d(u), 1)
    if u.shape[0] != w_in.shape[1]:
        raise ValueError(f"`u` (length {u.shape[0]}) must have length n_in={w_in.shape[1]}")
    return jnp.asarray(w_in), jnp.asarray(u)


def rnn_field(W, b, W_in=None, alpha: float = 1.0, u=None) -> RNNField:
    """Field of a full or low-rank network from bare arrays (input ``u`` held constant, default 0)."""
    W = _finite_array("W", W, 2)
    b = _finite_array("b", b, 1)
    if W.shape != (b.shape[0], b.shape[0]):
        raise ValueError(f"`W` (shape {W.shape}) must be square [n, n] with n = len(b) = {len(b)}")
    w_in, u = _input(W_in, u)
    alpha = check_positive("alpha", alpha)
    return RNNField(jnp.asarray(W), jnp.asarray(b), w_in, u, jnp.asarray(alpha))


def latent_field(m, nT, b, W_in=None, alpha: float = 1.0, u=None) -> LatentField:
    """Exact latent flow of a rank-K network with W = m nTᵀ (``m``, ``nT``: [n, k] or [n])."""
    m = _finite_array("m", np.asarray(m).reshape(len(np.asarray(m)), -1), 2)
    nT = _finite_array("nT", np.asarray(nT).reshape(len(np.asarray(nT)), -1), 2)
    b = _finite_array("b", b, 1)
    if m.shape != nT.shape or m.shape[0] != b.shape[0]:
        raise ValueError(f"`m` {m.shape}, `nT` {nT.shape} and `b` {b.shape} disagree")
    w_in, u = _input(W_in, u)
    alpha = check_positive("alpha", alpha)
    return LatentField(jnp.asarray(m), jnp.asarray(nT), jnp.asarray(b), w_in, u, jnp.asarray(alpha))


def from_network(net, u=None, *, latent: bool = False) -> RNNField | LatentField:
    """Field of a ``ghostmech.networks.RateRNN`` (fields m, nT, w, w_in, b, alpha only).

    ``latent=True`` (rank-K networks only) gives the K-dimensional flow of κ = Nᵀr.
    """
    if latent:
        if net.m is None:
            raise ValueError("`latent` (=True) needs a low-rank network (net.m is None)")
        return latent_field(net.m, net.nT, net.b, net.w_in, net.alpha, u)
    W = net.w if net.w is not None else net.m @ net.nT.T
    return rnn_field(W, net.b, net.w_in, net.alpha, u)


def sample_starts(
    f: Callable,
    x0: Float[Array, "trials n"],
    *,
    n_steps: int = 100,
    dt: float = 0.5,
    every: int = 5,
    noise: float = 0.0,
    key: PRNGKeyArray,
) -> Float[Array, "starts n"]:
    """States visited by Euler trajectories x ← x + dt·f(x) from ``x0``, every ``every``
    steps, plus Gaussian noise of s.d. ``noise`` (in state units)."""
    n_steps = check_positive_int("n_steps", n_steps)
    every = check_positive_int("every", every)
    dt = check_positive("dt", dt)
    noise = check_nonnegative("noise", noise)
    x0 = jnp.atleast_2d(jnp.asarray(x0))
    xs = _euler(f, x0, dt, n_steps, every)
    return xs + noise * jax.random.normal(key, xs.shape, xs.dtype)


@eqx.filter_jit
def _euler(f, x0, dt, n_steps: int, every: int):
    def step(x, _):
        x = x + dt * jax.vmap(f)(x)
        return x, x

    _, xs = jax.lax.scan(step, x0, None, length=n_steps)
    return jnp.concatenate([x0[None], xs[every - 1 :: every]]).reshape(-1, x0.shape[-1])
