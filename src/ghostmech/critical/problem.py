"""A network on a task as a loss of one flat float64 parameter vector.

``make_problem(net, task)`` returns `Problem`: ``loss(θ)`` with θ the trainable leaves of
``net`` (`training.state.split_network`) raveled into one vector, in float64, on the
task's distinct trials without noise (the loss SGD descends: Eqs. 36/38 and the
task's loss). Every predictor of this package works on a `Problem`; build and call it
inside ``jax.enable_x64(True)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ghostmech.training.distinct_trials import distinct_trials
from ghostmech.training.losses import loss_and_metrics
from ghostmech.training.state import split_network

__all__ = ["Problem", "make_problem", "to_float64"]


class Problem(NamedTuple):
    """``loss(θ: [P]) -> []``, ``theta0`` ``[P]`` (the network's own parameters), ``net(θ)``
    the network with θ put back, and the ``task``."""

    loss: Any
    theta0: jax.Array
    net: Any
    task: Any


def to_float64(tree: Any) -> Any:
    """Every floating array leaf of ``tree`` as float64 (call inside ``enable_x64``)."""
    return jax.tree.map(
        lambda a: jnp.asarray(a, jnp.float64) if eqx.is_inexact_array(a) else a, tree
    )


def make_problem(net: Any, task: Any) -> Problem:
    """`Problem` of ``net`` (a `RateRNN`) trained on all of ``task``'s distinct trials."""
    net = to_float64(net)
    params, frozen, skeleton = split_network(net)
    theta0, unravel = ravel_pytree(params)
    batch = to_float64(distinct_trials(task.all_trials()))

    def rebuild(theta):
        return eqx.combine(unravel(theta), frozen, skeleton)

    def loss(theta):
        return loss_and_metrics(rebuild(theta), batch, key=None, task=task)[0]

    return Problem(loss, theta0, rebuild, task)
