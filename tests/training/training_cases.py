"""Small networks and tasks shared by the training tests.

Sharing shapes (and a chunk length) lets the tests reuse compiled programs.
"""

from __future__ import annotations

import jax
import numpy as np

from ghostmech.networks import make_network, make_preset
from ghostmech.tasks import DelayedActivation, DelayedCueDiscrimination

CHUNK = 5
DA_TASK = DelayedActivation(delay=5, response=5)
DCD_TASK = DelayedCueDiscrimination(input=2, delay=3, response=3)


def da_net(key: jax.Array, **overrides):
    """Rank-one DA network of Fig. 3A (Eq. 36 readout, β = 10), N = 8, gain raised."""
    return make_preset("fig3a", n=8, key=key, **overrides)


def dcd_net(key: jax.Array, noise_std: float = 0.0, n: int = 6, **overrides):
    """Full-rank DCD network (tanh readout, read before), N = 6."""
    kwargs = dict(rank="full", readout="linear", readout_kwargs={"activation": "tanh"},
                  read="before", frozen=("r0",))  # fmt: skip
    return make_network(n=n, noise_std=noise_std, key=key, **{**kwargs, **overrides})


def same_bits(a, b) -> bool:
    """Whether two pytrees hold bitwise equal arrays (NaN equal to NaN)."""
    leaves = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True) for x, y in leaves)
