"""Delayed match-to-sample (DMTS), docs/model.md §3 (Eqs. 44-45 of the paper).

Timeline (steps), cues s₁, s₂ ∈ {−1, +1}; the match window is as long as the
input window::

    input  | s₁ (input) | 0 (delay) | s₂ (input) | 0 (response)     |
    target | 0          | 0         | 0          | 1 if s₁ = s₂ else 0 |

Trial types, in order: (s₁, s₂) = (−1, −1), (−1, +1), (+1, −1), (+1, +1).
Loss: mean squared error over batch and time (``loss_kind = "mse"``).
Accuracy: 1[z > 0.5] against the target per step (docs/model.md §2).
Paper settings (Δt = 5 ms): 30/80/50 ms (Figs. 4, 7); 10/150/50 ms (Fig. 5).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import numpy as np

from ghostmech.tasks.base import Task, check_steps

__all__ = ["DelayedMatchToSample"]


class DelayedMatchToSample(Task):
    """Delayed match-to-sample: output 1 in the response window iff the two cues match.

    >>> task = DelayedMatchToSample(input=1, delay=1, response=1)
    >>> task.all_trials().targets[-1, :, 0].tolist()
    [1.0, 0.0, 0.0, 1.0]
    """

    input: int = eqx.field(static=True)
    delay: int = eqx.field(static=True)
    response: int = eqx.field(static=True)

    name: ClassVar[str] = "dmts"
    loss_kind: ClassVar[str] = "mse"
    windows: ClassVar[tuple[str, ...]] = ("input", "delay", "response")

    def __init__(self, input: int = 6, delay: int = 16, response: int = 10):
        self.input = check_steps("input", input)
        self.delay = check_steps("delay", delay)
        self.response = check_steps("response", response)

    @property
    def n_steps(self) -> int:
        return 2 * self.input + self.delay + self.response

    def trial_types(self) -> np.ndarray:
        return np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])

    def _trial(self, cues):
        s1, s2 = cues[0], cues[1]
        t = np.arange(self.n_steps)
        match_start = self.input + self.delay
        response_start = match_start + self.input
        inputs = np.where(t < self.input, s1, 0.0)
        inputs = np.where((t >= match_start) & (t < response_start), s2, inputs)
        targets = np.where(t >= response_start, float(s1 == s2), 0.0)
        return inputs[:, None], targets[:, None]
