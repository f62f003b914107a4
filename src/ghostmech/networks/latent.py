"""Exact latent dynamics of a rank-K network (docs/model.md §2, Eqs. 25, 37).

With W = M Nᵀ and κ = Nᵀ r ∈ ℝᴷ, projecting the Euler step (Eq. 47) with Nᵀ gives

    κ_{t+1} = (1 − α) κ_t + α Nᵀ tanh(M κ_t + W_in u_t + b + ξ_t),

an exact K-dimensional map for ANY r0 (no assumption that r0 lies in the span
of M): the recurrent drive W r_t = M κ_t depends on r only through κ. In
continuous time (units of τ) the flow is τ κ̇ = −κ + Nᵀ tanh(M κ + W_in u + b).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ghostmech.networks.rnn import RateRNN

__all__ = ["latent_flow", "latent_map", "latent_trajectory"]


def _check_low_rank(net: RateRNN) -> None:
    if net.m is None:
        raise ValueError("`net` is full rank (w given); the latent reduction needs m, nT")


def _input_drive(net: RateRNN, u: Float[Array, " n_in"] | None) -> Float[Array, " n"]:
    return net.b if u is None else net.w_in @ u + net.b


def latent_flow(
    net: RateRNN, u: Float[Array, " n_in"] | None = None
) -> Callable[[Float[Array, " k"]], Float[Array, " k"]]:
    """κ ↦ dκ/dt = −κ + Nᵀ tanh(M κ + W_in u + b) (τ = 1; u = None means no input)."""
    _check_low_rank(net)
    h = _input_drive(net, u)
    return lambda kappa: -kappa + net.nT.T @ jnp.tanh(net.m @ kappa + h)


def latent_map(
    net: RateRNN, u: Float[Array, " n_in"] | None = None
) -> Callable[[Float[Array, " k"]], Float[Array, " k"]]:
    """κ_t ↦ κ_{t+1} = (1 − α) κ_t + α Nᵀ tanh(M κ_t + W_in u + b) = κ_t + α·flow(κ_t)."""
    _check_low_rank(net)
    h = _input_drive(net, u)
    a = net.alpha
    return lambda kappa: (1.0 - a) * kappa + a * (net.nT.T @ jnp.tanh(net.m @ kappa + h))


@eqx.filter_jit
def latent_trajectory(
    net: RateRNN, inputs: Float[Array, "time n_in"], *, key: PRNGKeyArray | None = None
) -> Float[Array, "time k"]:
    """κ at each step, iterating the K-dimensional map only (never N-dimensional r).

    Aligned with ``net(inputs, key=key)``: equals ``rates @ nT`` for the same
    ``read`` convention and the same noise key.
    """
    _check_low_rank(net)
    xi = net.noise(key, inputs.shape[0])

    def body(kappa, ux):
        u, x = ux
        pre = net.m @ kappa + net.w_in @ u + net.b + (0.0 if x is None else x)
        k_next = (1.0 - net.alpha) * kappa + net.alpha * (net.nT.T @ jnp.tanh(pre))
        return k_next, (k_next if net.read == "after" else kappa)

    _, kappas = jax.lax.scan(body, net.nT.T @ net.r0, (inputs, xi))
    return kappas
