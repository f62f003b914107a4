"""Delayed activation (DA), docs/theory.md and §4 (Eqs. 41-42 of the paper).

Timeline (steps)::

    | delay (target 0) | response (target 1) |

No input: the network is driven by its own dynamics only. To keep one shape
convention for every task the input has one channel that is always 0
(``n_in = 1``), so ``W_in`` has no effect and gets a zero gradient.

The paper's RNN runs use ``delay = response = 20`` steps (100 ms at Δt = 5 ms).
Its loss (``loss_kind = "da"``) is Σ_t (z_t − ŷ_t)² / T over the ``delay +
response`` steps, T = ``delay``; accuracy is 1[z > 0.5] against the target per step.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ghostmech.tasks.base import Task, TaskBatch, check_steps

__all__ = ["DelayedActivation"]


class DelayedActivation(Task):
    """Delayed activation: target 0 for ``delay`` steps, then 1 for ``response`` steps.

    >>> task = DelayedActivation(delay=3, response=2)
    >>> task.all_trials().targets[:, 0, 0].tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0]
    """

    delay: int = eqx.field(static=True)
    response: int = eqx.field(static=True)

    name: ClassVar[str] = "da"
    loss_kind: ClassVar[str] = "da"
    windows: ClassVar[tuple[str, ...]] = ("delay", "response")

    def __init__(self, delay: int = 20, response: int = 20):
        self.delay = check_steps("delay", delay)
        self.response = check_steps("response", response)

    @property
    def n_steps(self) -> int:
        return self.delay + self.response

    def trial_types(self) -> np.ndarray:
        return np.zeros((1, 0))

    def _trial(self, cues):
        t = np.arange(self.n_steps)
        targets = (t >= self.delay).astype(float)[:, None]
        return np.zeros((self.n_steps, 1)), targets

    def loss(self, z: Float[Array, "time batch 1"], batch: TaskBatch) -> Float[Array, ""]:
        """Σ_t mask·(z − ŷ)² / T (T = ``delay``), averaged over trials (docs/model.md §2)."""
        sq = batch.mask * (z - batch.targets) ** 2
        return jnp.sum(sq) / (self.delay * z.shape[1])
