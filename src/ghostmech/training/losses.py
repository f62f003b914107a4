"""Losses and accuracies of SPEC §3, for one network over a batch of trials.

The network runs ONE trial (``net(inputs[time, n_in], key=) -> (rates, z)``);
`forward` vmaps it over the batch axis of a `TaskBatch` (``[time, batch, ·]``).

* DA (``task.loss_kind == "da"``): L = Σ_t mask·(z_t − ŷ_t)² / T over the
  ``delay + response`` steps, T = ``delay``, averaged over trials.
* DCD / DMTS (``"mse"``): L = Σ mask·(z − ŷ)² / Σ mask, the mean squared error
  over batch × time × outputs where the mask is 1.
* accuracy: ``task.accuracy(z, batch)`` (DA/DMTS: 1[z > 0.5]; DCD: z binned
  at ±0.33), mask-weighted.

The task owns its loss (``task.loss``); `da_loss` and `mse_loss` restate the
two formulas so callers without a task object can use them.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["forward", "loss_and_metrics", "da_loss", "mse_loss"]


def forward(net: Any, inputs: Float[Array, "time batch n_in"], *, key: PRNGKeyArray):
    """Run ``net`` on every trial: returns (rates ``[time, batch, n]``, z ``[time, batch, n_out]``).

    Each trial gets its own noise key, split from ``key`` (trial b gets split(key, B)[b]).
    """
    keys = jax.random.split(key, inputs.shape[1])
    return jax.vmap(lambda u, k: net(u, key=k), in_axes=(1, 0), out_axes=1)(inputs, keys)


def da_loss(z: Float[Array, "time batch n_out"], batch: Any, delay: int) -> Float[Array, ""]:
    """DA loss Σ_t mask·(z − ŷ)² / T with T = ``delay``, averaged over trials."""
    sq = batch.mask * (z - batch.targets) ** 2
    return jnp.sum(sq) / (delay * z.shape[1])


def mse_loss(z: Float[Array, "time batch n_out"], batch: Any) -> Float[Array, ""]:
    """Masked mean squared error Σ mask·(z − ŷ)² / Σ mask."""
    sq = batch.mask * (z - batch.targets) ** 2
    return jnp.sum(sq) / jnp.sum(batch.mask)


def loss_and_metrics(
    net: Any, batch: Any, *, key: PRNGKeyArray, task: Any
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """Loss of ``net`` on ``batch`` and its metrics ``{"accuracy": ...}``.

    ``task`` supplies the loss (``task.loss``, SPEC §3) and the accuracy rule.
    ``key`` drives the recurrent noise (unused when ``noise_std == 0``).
    """
    _, z = forward(net, batch.inputs, key=key)
    loss = task.loss(z, batch)
    return loss, {"accuracy": task.accuracy(z, batch)}
