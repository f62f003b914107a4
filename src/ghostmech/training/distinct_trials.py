"""Identical trials computed once: a batch as its distinct trials, weighted by multiplicity.

Without recurrent noise (σ = 0: `ghostmech.training.losses.forward` with
``key=None``) every trial runs ``net(u)`` from the network's one r₀, so its
outputs depend on its inputs only, and trials with equal (inputs, targets,
mask) have equal losses and gradients. When the task's loss and accuracy are
mask-weighted means (``task.mask_weights``: Σ mask·f / Σ mask, or Σ mask·f / (c·B)
as the DA loss), a batch of B trials with B' distinct ones d of multiplicity
c_d is replaced by the B' trials with

    mask'_d = w_d · mask_d,    w_d = c_d · B' / B    (mean w = 1),

which gives the same loss, accuracy and gradients, exactly up to float
rounding: Σ_b mask_b f_b = (B / B') Σ_d mask'_d f_d and Σ_b mask_b =
(B / B') Σ_d mask'_d, and B' replaces B in the c·B normalisation.

* a fixed batch (``"all"``, ``repeat_trials(n)``, any TaskBatch): `distinct_trials`
  finds the identical columns once, on the host; `Deduped` keeps both forms;
* a batch sampled every epoch (``batch = B``): `SampledTypes` draws the trial
  types ``task.sample`` would draw (`Task.sample_types`, same key, same
  draws) and weights ``task.all_trials()`` by their counts.

`resolve` makes these where they save work; `select` then gives the training
program the compressed form when no noise is drawn and the original one
otherwise (with noise the program is bitwise the one without compression).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ghostmech.tasks.base import TaskBatch

__all__ = ["Deduped", "SampledTypes", "distinct_trials", "weigh", "resolve", "select"]


def weigh(batch: TaskBatch, weights: Float[Array, " batch"]) -> TaskBatch:
    """``batch`` with trial b's mask multiplied by ``weights[b]`` (it counts ``weights[b]`` times)."""
    w = jnp.asarray(weights, batch.mask.dtype)
    return TaskBatch(batch.inputs, batch.targets, batch.mask * w[None, :, None])


def distinct_trials(batch: TaskBatch) -> TaskBatch:
    """The distinct trials of ``batch`` (order of first appearance), mask × c·B'/B (host, numpy).

    Trials are identical when their inputs, targets and mask columns are equal.
    """
    arrays = [np.asarray(x) for x in (batch.inputs, batch.targets, batch.mask)]
    n = arrays[0].shape[1]
    rows = np.concatenate([np.moveaxis(a, 1, 0).reshape(n, -1) for a in arrays], axis=1)
    _, first, counts = np.unique(rows, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first)
    keep, counts = first[order], counts[order]
    inputs, targets, mask = (jnp.asarray(np.take(a, keep, axis=1)) for a in arrays)
    return weigh(TaskBatch(inputs, targets, mask), counts * (keep.size / n))


class Deduped(eqx.Module):
    """A fixed batch (``full``, what noisy training runs) and its `distinct_trials`.

    ``inputs`` / ``targets`` / ``mask`` are those of ``full``: it stands for that batch.
    """

    full: TaskBatch
    distinct: TaskBatch

    @property
    def inputs(self) -> Array:
        return self.full.inputs

    @property
    def targets(self) -> Array:
        return self.full.targets

    @property
    def mask(self) -> Array:
        return self.full.mask

    @property
    def n_trials(self) -> int:
        return self.full.n_trials


class SampledTypes(eqx.Module):
    """``batch`` trials sampled every epoch, run as the task's trial types weighted by count."""

    table: TaskBatch  # task.all_trials()
    batch: int = eqx.field(static=True)

    def draw(self, task: Any, key: PRNGKeyArray) -> TaskBatch:
        """``task.all_trials()`` weighted by the counts of ``task.sample(key=key, ...)``'s types."""
        n_types = self.table.n_trials
        idx = task.sample_types(key=key, batch=self.batch)
        counts = jnp.bincount(idx, length=n_types)
        return weigh(self.table, counts * (n_types / self.batch))


def resolve(task: Any, data: Any, enabled: bool = True) -> Any:
    """``data`` (a TaskBatch or an int) as `Deduped` / `SampledTypes` where that saves work.

    Only for tasks with ``mask_weights`` (and, for an int, ``sample_types`` and
    fewer trial types than ``data``); ``enabled=False`` returns ``data`` as is.
    """
    if isinstance(data, Deduped):
        data = data.full
    if isinstance(data, SampledTypes):
        data = data.batch
    if not enabled or not getattr(task, "mask_weights", False):
        return data
    if isinstance(data, int):
        ok = callable(getattr(task, "sample_types", None)) and task.n_types < data
        return SampledTypes(task.all_trials(), data) if ok else data
    small = distinct_trials(data)
    return Deduped(data, small) if small.n_trials < data.inputs.shape[1] else data


def select(data: Any, noisy: bool) -> Any:
    """What one epoch's program takes: the compressed form iff ``noisy`` is False.

    `Deduped` -> ``distinct`` (or ``full`` when noisy); `SampledTypes` -> itself
    (or its int ``batch`` when noisy); anything else as is.
    """
    if isinstance(data, Deduped):
        return data.full if noisy else data.distinct
    if isinstance(data, SampledTypes) and noisy:
        return data.batch
    return data
