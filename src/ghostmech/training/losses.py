"""Losses and accuracies of docs/model.md §2, for one network over a batch of trials.

The network runs ONE trial (``net(inputs[time, n_in], key=) -> (rates, z)``);
`forward` vmaps it over the batch axis of a `TaskBatch` (``[time, batch, ·]``).

* DA (``task.loss_kind == "da"``): L = Σ_t mask·(z_t − ŷ_t)² / T over the
  ``delay + response`` steps, T = ``delay``, averaged over trials.
* DCD / DMTS (``"mse"``): L = Σ mask·(z − ŷ)² / Σ mask, the mean squared error
  over batch × time × outputs where the mask is 1.
* accuracy: ``task.accuracy(z, batch)`` (DA/DMTS: 1[z > 0.5]; DCD: z binned
  at ±0.33), mask-weighted.

The task owns its loss (``task.loss``); `da_loss` and `mse_loss` restate the
two formulas so callers without a task object can use them. Both are linear in
the mask, so a mask holding trial weights (`ghostmech.training.distinct_trials`:
each distinct trial once, mask × multiplicity) gives the full batch's value.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ghostmech.networks import RateRNN

__all__ = ["forward", "batch_noise", "loss_and_metrics", "da_loss", "mse_loss"]


def forward(net: Any, inputs: Float[Array, "time batch n_in"], *, key: PRNGKeyArray | None):
    """Run ``net`` on every trial: returns (rates ``[time, batch, n]``, z ``[time, batch, n_out]``).

    Each trial gets its own noise key, split from ``key`` (trial b gets split(key, B)[b]).
    ``key=None`` runs without noise and draws nothing (exact when ``noise_std == 0``).
    A full-rank `RateRNN` runs batch-major (`_batch_major`), with a key on the
    noise of `batch_noise` (the same draws as ``net(u, key=k)``: same numbers up to
    float rounding). Other networks run ``net`` vmapped over trials (bitwise).
    """
    full_rank = isinstance(net, RateRNN) and net.m is None
    if key is None:
        if full_rank:
            return _batch_major(net, inputs)
        return jax.vmap(lambda u: net(u), in_axes=1, out_axes=1)(inputs)
    if full_rank:
        return _batch_major(net, inputs, batch_noise(net, key, inputs.shape[:2]))
    keys = jax.random.split(key, inputs.shape[1])
    return jax.vmap(lambda u, k: net(u, key=k), in_axes=(1, 0), out_axes=1)(inputs, keys)


def batch_noise(
    net: RateRNN, key: PRNGKeyArray, shape: tuple[int, int]
) -> Float[Array, "time batch n"]:
    """ξ of Eq. 47 for every step and trial of a batch, laid out ``[time, batch, n]``:

        ξ[:, b] = net.noise(split(key, batch)[b], time),

    the draws ``net(u, key=k)`` makes for trial b (`RateRNN.noise`: N(0, σ²) or
    N(0, σ²/α)), bit for bit, so a noisy batch sees the same noise whichever layout
    runs it. A function of ``key`` only: training stays reproducible from the run's
    key and resumes bit-identically. (One ``normal(key, (time, batch, n))`` draw
    instead costs the same here, and threefry is 3-4x cheaper than ``rbg`` /
    ``unsafe_rbg`` on CPU: docs/benchmarks.md.)
    """
    time, batch = shape
    draws = jax.vmap(lambda k: net.noise(k, time))(jax.random.split(key, batch))
    return jnp.swapaxes(draws, 0, 1)


def _batch_major(
    net: RateRNN,
    inputs: Float[Array, "time batch n_in"],
    xi: Float[Array, "time batch n"] | None = None,
):
    """Full-rank `RateRNN` on all trials at once (Eq. 47, carry r ``[batch, n]``):

        r_{t+1} = (1 − α) r_t + α tanh(r_t Wᵀ + u_t W_inᵀ + b + ξ_t),   z_t = readout(r_read),

    one ``[batch, n] × [n, n]`` product per step and the readout inside the step
    (reading out after the scan, as ``net`` does, moves the ``[time, batch, n]``
    rates through memory once more: ~2x slower training on CPU at the Fig. 5
    sizes). ``xi`` None: no noise. Same numbers as ``net`` vmapped over trials
    (with the same ξ) up to float rounding.
    """

    def body(r, ux):
        u, x = ux
        pre = r @ net.w.T + u @ net.w_in.T + net.b
        pre = pre if x is None else pre + x
        r_next = (1.0 - net.alpha) * r + net.alpha * jnp.tanh(pre)
        read = r_next if net.read == "after" else r
        return r_next, (read, jax.vmap(net.readout)(read, net.latent(read)))

    r0 = jnp.broadcast_to(net.r0, (inputs.shape[1], net.n))
    return jax.lax.scan(body, r0, (inputs, xi))[1]


def da_loss(z: Float[Array, "time batch n_out"], batch: Any, delay: int) -> Float[Array, ""]:
    """DA loss Σ_t mask·(z − ŷ)² / T with T = ``delay``, averaged over trials."""
    sq = batch.mask * (z - batch.targets) ** 2
    return jnp.sum(sq) / (delay * z.shape[1])


def mse_loss(z: Float[Array, "time batch n_out"], batch: Any) -> Float[Array, ""]:
    """Masked mean squared error Σ mask·(z − ŷ)² / Σ mask."""
    sq = batch.mask * (z - batch.targets) ** 2
    return jnp.sum(sq) / jnp.sum(batch.mask)


def loss_and_metrics(
    net: Any, batch: Any, *, key: PRNGKeyArray | None, task: Any
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """Loss of ``net`` on ``batch`` and its metrics ``{"accuracy": ...}``.

    ``task`` supplies the loss (``task.loss``, docs/model.md §2) and the accuracy rule.
    ``key`` drives the recurrent noise; ``None`` skips drawing it (σ = 0).
    """
    _, z = forward(net, batch.inputs, key=key)
    loss = task.loss(z, batch)
    return loss, {"accuracy": task.accuracy(z, batch)}
