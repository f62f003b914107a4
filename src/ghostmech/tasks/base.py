"""Shared task machinery: the `TaskBatch` contract, timing validation, the base class.

A task is a frozen ``eqx.Module`` whose timings (in steps) are static fields.
Each subclass lists its trial types (`trial_types`, fixed order) and builds ONE
trial from one row of cue values (`_trial`); this base class turns that into

* `all_trials()`        every trial type once, in the fixed order;
* `repeat_trials(n)`    every trial type ``n`` times (type-major: t0 x n, t1 x n, ...);
* `sample(key=, batch=)` trial types drawn uniformly at random (`sample_types`);
* `accuracy(z, batch)`  per-step agreement, mask-weighted (docs/model.md §2);
* `loss(z, batch)`      the task's loss (``loss_kind``, docs/model.md §2).

Every array is shaped ``[time, batch, channels]``. All methods are pure and can
be jitted/vmapped (``batch`` and ``n`` are static Python ints). Trial tables are
built with numpy on the host (timings are static), so building a batch costs
no device dispatches; `sample` is one gather from that table.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ghostmech._checks import check_positive

__all__ = ["TaskBatch", "Task", "steps_from_ms", "check_steps"]

DEFAULT_DT_MS = 5.0


class TaskBatch(eqx.Module):
    """Inputs, targets and loss mask of a batch of trials, shaped ``[time, batch, channels]``.

    ``mask`` is 1 where a step counts in the loss and in the accuracy (every
    step for the paper's tasks). It is a weight: a trial whose mask is w·1
    counts as w copies of itself (``Task.mask_weights``; the batches of
    `ghostmech.training.distinct_trials` hold multiplicities there).
    """

    inputs: Float[Array, "time batch n_in"]
    targets: Float[Array, "time batch n_out"]
    mask: Float[Array, "time batch n_out"]

    @property
    def n_trials(self) -> int:
        return self.inputs.shape[1]


def check_steps(name: str, value: Any) -> int:
    """Return ``value`` as an int number of steps, or raise unless it is an integer >= 1.

    Floats that are whole numbers (``20.0``) are rejected too: steps must be ints,
    use `Task.from_ms` for times.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            arr = np.asarray(value)
            ok = arr.ndim == 0 and arr.dtype.kind in "iu"
        except Exception:  # pragma: no cover - defensive
            ok = False
        if not ok:
            raise ValueError(
                f"`{name}` (={value!r}) must be a positive integer number of steps, "
                f"got {type(value).__name__}"
            )
        value = int(arr.item())
    if value < 1:
        raise ValueError(f"`{name}` (={value!r}) must be a positive integer number of steps")
    return value


def steps_from_ms(name: str, ms: Any, dt_ms: float) -> int:
    """Convert a window length in ms to steps; raise unless it is a positive multiple of ``dt_ms``."""
    dt = check_positive("dt_ms", dt_ms)
    t = check_positive(name, ms)
    k = round(t / dt)
    if k < 1 or not math.isclose(k * dt, t, rel_tol=1e-9, abs_tol=1e-12):
        raise ValueError(f"`{name}` (={ms!r} ms) must be a positive multiple of dt_ms (={dt!r} ms)")
    return k


class Task(eqx.Module):
    """Base class: subclasses set the class variables and implement `trial_types` and `_trial`."""

    name: ClassVar[str]
    loss_kind: ClassVar[str]  # "da" | "mse"
    n_in: ClassVar[int] = 1
    n_out: ClassVar[int] = 1
    windows: ClassVar[tuple[str, ...]]  # names of the timing fields, in timeline order
    # `loss` and `accuracy` are linear in `mask`, normalised by Σ mask or by the number
    # of trials: scaling a trial's mask by w counts it w times (set False otherwise)
    mask_weights: ClassVar[bool] = True

    @property
    def n_steps(self) -> int:
        raise NotImplementedError

    def trial_types(self) -> np.ndarray:
        """Cue values of every trial type, ``[n_types, n_cues]`` (numpy), fixed order."""
        raise NotImplementedError

    def _trial(self, cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One trial (numpy): inputs ``[time, n_in]``, targets ``[time, n_out]``."""
        raise NotImplementedError

    @property
    def n_types(self) -> int:
        return self.trial_types().shape[0]

    @classmethod
    def from_ms(cls, dt_ms: float = DEFAULT_DT_MS, **windows_ms: float) -> Task:
        """Build the task from window lengths in ms (each a positive multiple of ``dt_ms``).

        >>> from ghostmech.tasks import DelayedCueDiscrimination
        >>> DelayedCueDiscrimination.from_ms(input=10, delay=50, response=50).n_steps
        22
        """
        unknown = sorted(set(windows_ms) - set(cls.windows))
        if unknown:
            allowed = ", ".join(repr(w) for w in cls.windows)
            raise ValueError(
                f"`{unknown[0]}` is not a window of {cls.__name__}; allowed: {allowed}"
            )
        return cls(**{k: steps_from_ms(k, v, dt_ms) for k, v in windows_ms.items()})

    def _table(self, types: np.ndarray) -> TaskBatch:
        """Trials for the rows of ``types`` (numpy, built on the host: timings are static)."""
        pairs = [self._trial(row) for row in types]
        dtype = jnp.result_type(float)
        inputs = jnp.asarray(np.stack([p[0] for p in pairs], axis=1), dtype=dtype)
        targets = jnp.asarray(np.stack([p[1] for p in pairs], axis=1), dtype=dtype)
        return TaskBatch(inputs, targets, jnp.ones_like(targets))

    def all_trials(self) -> TaskBatch:
        """Every trial type once, in the order of `trial_types` (batch = n_types)."""
        return self._table(self.trial_types())

    def repeat_trials(self, n_per_type: int) -> TaskBatch:
        """Every trial type ``n_per_type`` times, type-major (batch = n_types * n_per_type)."""
        n = check_steps("n_per_type", n_per_type)
        return self._table(np.repeat(self.trial_types(), n, axis=0))

    def sample_types(self, *, key: PRNGKeyArray, batch: int) -> Int[Array, " batch"]:
        """Indices (rows of `trial_types`) of the ``batch`` trials `sample` draws with ``key``."""
        b = check_steps("batch", batch)
        return jax.random.randint(key, (b,), 0, self.n_types)

    def sample(self, *, key: PRNGKeyArray, batch: int) -> TaskBatch:
        """``batch`` trials whose types are drawn uniformly (independently) with ``key``."""
        idx = self.sample_types(key=key, batch=batch)
        return jax.tree_util.tree_map(lambda x: jnp.take(x, idx, axis=1), self.all_trials())

    def accuracy(self, z: Float[Array, "time batch n_out"], batch: TaskBatch) -> Float[Array, ""]:
        """Mask-weighted fraction of (step, trial, channel) where `decide(z)` equals the target."""
        hit = (self.decide(z) == batch.targets).astype(z.dtype)
        return jnp.sum(hit * batch.mask) / jnp.sum(batch.mask)

    def decide(self, z: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Map outputs to discrete decisions (default: 1[z > 0.5])."""
        return (z > 0.5).astype(z.dtype)

    def loss(self, z: Float[Array, "time batch n_out"], batch: TaskBatch) -> Float[Array, ""]:
        """Mean squared error over every masked (step, trial, channel) (``loss_kind == "mse"``)."""
        sq = batch.mask * (z - batch.targets) ** 2
        return jnp.sum(sq) / jnp.sum(batch.mask)
