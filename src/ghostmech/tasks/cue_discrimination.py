"""Delayed cue discrimination (DCD), docs/model.md §3 (Eq. 43 of the paper).

Timeline (steps), cue s ∈ {−1, +1}::

    input  | s (input) | 0 (delay) | 0 (response) |
    target | 0         | 0         | s            |

Trial types, in order: s = −1, s = +1. Loss: mean squared error over batch and
time (``loss_kind = "mse"``). Accuracy: z is binned at ±0.33 into {−1, 0, 1} and
compared with the target per step (docs/model.md §2).
Paper settings (Δt = 5 ms): 10/50/50 ms (Figs. 4, 5); 30/80/50 ms (Fig. 7).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ghostmech.tasks.base import Task, check_steps

__all__ = ["DelayedCueDiscrimination"]

DCD_BIN = 0.33


class DelayedCueDiscrimination(Task):
    """Delayed cue discrimination: report the sign of the cue after a delay.

    >>> task = DelayedCueDiscrimination(input=1, delay=2, response=2)
    >>> task.all_trials().targets[:, :, 0].T.tolist()
    [[0.0, 0.0, 0.0, -1.0, -1.0], [0.0, 0.0, 0.0, 1.0, 1.0]]
    """

    input: int = eqx.field(static=True)
    delay: int = eqx.field(static=True)
    response: int = eqx.field(static=True)

    name: ClassVar[str] = "dcd"
    loss_kind: ClassVar[str] = "mse"
    windows: ClassVar[tuple[str, ...]] = ("input", "delay", "response")

    def __init__(self, input: int = 2, delay: int = 10, response: int = 10):
        self.input = check_steps("input", input)
        self.delay = check_steps("delay", delay)
        self.response = check_steps("response", response)

    @property
    def n_steps(self) -> int:
        return self.input + self.delay + self.response

    def trial_types(self) -> np.ndarray:
        return np.array([[-1.0], [1.0]])

    def _trial(self, cues):
        s = cues[0]
        t = np.arange(self.n_steps)
        inputs = np.where(t < self.input, s, 0.0)[:, None]
        targets = np.where(t >= self.input + self.delay, s, 0.0)[:, None]
        return inputs, targets

    def decide(self, z: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Bin z into {−1, 0, 1} at ±0.33."""
        return jnp.where(z > DCD_BIN, 1.0, jnp.where(z < -DCD_BIN, -1.0, 0.0)).astype(z.dtype)
