"""`drive`: THE loop over chunks, checkpoints and interventions (the only one).

`fit`, `sweep`, `ghostmech.runs.run_experiment`, the blocks of
`ghostmech.runs.blocks` and the adaptive measurement of a critical lr
(`ghostmech.critical.measure.measure_rank1_da`) all train through it; they
differ only in the `Executor` (how a chunk is computed), the `Sink` (where its
results go) and the rules that read the metrics.

At epoch e (= updates done, read from the state, so a reloaded state resumes):

1. ``sink.checkpoint(e, states)`` if e is a checkpoint epoch;
2. apply the interventions scheduled at e, then those a `Rule` decided at e;
3. networks whose budget is e leave the active set (``budgets``);
4. stop if e is the last epoch or no network is active; else train the active
   networks to the first of ``schedule.stop_after(e)``, the rule's
   ``rule.stop_after(e)`` and the next budget of an active network, and hand
   the chunk's recorded metrics to ``sink.chunk(e, stop, metrics, states)``,
   to ``rule.decide`` and to ``retire.retire``, which may retire networks.

A `Rule` is an intervention that depends on the run's own numbers (e.g. the
rescue from the no-learning zone, `ghostmech.training.rescue`): after each
chunk it reads the chunk's metrics and returns the interventions to apply at
the chunk's last epoch; it may also end a chunk early (a check every k epochs).

Retiring networks (a stack of G networks; for measurements whose networks are
decided at different epochs, e.g. trapped at once or at a budget ∝ 1/lr). A
`Retire` reads each chunk's metrics and names the networks that are decided;
``budgets[g]`` caps network g's epochs (its chunks end exactly there). A
retired network keeps its state (its epoch says where it stopped) and is not
trained, nor does it receive interventions, again; its metrics rows are NaN
from then on. The active networks are taken out of the stack before each
chunk and put back after it: the executors compute at one fixed, padded width
(`ghostmech.training.engine.executors`), so a network's numbers are the same
bits whether its neighbours are active, retired or absent. (A retiring run
starts all networks at one epoch and is not resumed midway.)

Every epoch depends only on (state, e) (`ghostmech.training.step`), so the
chunking, and a resume from any saved state, never change the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ghostmech.training.engine.executors import Executor
from ghostmech.training.engine.schedule import Schedule
from ghostmech.training.engine.stacks import padded_index, put, size, take

__all__ = ["Sink", "MemorySink", "Rule", "Retire", "drive", "first_epoch"]


class Sink(Protocol):
    def checkpoint(self, epoch: int, states: Any) -> None: ...

    def chunk(self, start: int, stop: int, metrics: dict[str, np.ndarray], states: Any) -> None: ...


class Rule(Protocol):
    def stop_after(self, epoch: int) -> int: ...

    def decide(self, start: int, stop: int, metrics: dict[str, np.ndarray]) -> tuple: ...


class Retire(Protocol):
    """After each chunk: which networks are decided (bool ``[G]``) given the chunk's
    metrics (rows ``[G, ...]``, NaN for retired networks) and the ``active`` mask
    (bool ``[G]``) it was trained with. Only active networks can be retired."""

    def retire(
        self, start: int, stop: int, metrics: dict[str, np.ndarray], active: np.ndarray
    ) -> np.ndarray: ...


class MemorySink:
    """Keeps everything in memory: ``metrics()`` joined along the last axis; ``saved``."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}
        self.saved: dict[int, Any] = {}

    def checkpoint(self, epoch: int, states: Any) -> None:
        self.saved[epoch] = states.net

    def chunk(self, start: int, stop: int, metrics: dict[str, np.ndarray], states: Any) -> None:
        for k, v in metrics.items():
            self.parts.setdefault(k, []).append(np.asarray(v))

    def metrics(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v, axis=-1) for k, v in self.parts.items()}


def first_epoch(states: Any) -> int:
    """The epoch (updates done) of a state or of a stack of states (all equal)."""
    return int(np.asarray(states.epoch).flat[0])


def _budgets(states: Any, budgets: Any, epochs: int) -> np.ndarray:
    b = np.asarray(budgets)
    g = size(states)
    if b.shape != (g,) or not np.issubdtype(b.dtype, np.integer) or (b < 0).any():
        raise ValueError(f"`budgets` (shape {b.shape}) must be {g} epoch counts ≥ 0, one a network")
    return np.minimum(b, epochs)


_take = eqx.filter_jit(take)  # one compiled gather (scatter) per index length, all leaves
_put = eqx.filter_jit(put)


def _width(executor: Any, states: Any) -> int:
    """The executor's compiled width for these networks (`width_for`, else ``width``)."""
    width_for = getattr(executor, "width_for", None)
    return int(width_for(take(states.net, 0)) if width_for else getattr(executor, "width", 1))


def _on_active(states: Any, active: np.ndarray | None, width: int, fn) -> tuple[Any, Any]:
    """``fn(states, index)`` on the active networks only (all of them: the stack as is,
    ``index`` None).

    The active rows are taken padded to a multiple of ``width`` (copies of the last,
    as the executors pad: no extra work) so that few index lengths compile; the
    padding's results are dropped. Returns the states and ``fn``'s second output."""
    if active is None or active.all():
        return fn(states, None)
    idx = np.flatnonzero(active)
    full = padded_index(idx, width)
    dest = np.where(np.arange(full.size) < idx.size, full, active.size)  # pads: dropped
    sub, out = fn(_take(states, jnp.asarray(full)), full)
    return _put(states, jnp.asarray(dest), sub), out


def _rows(axes: dict[str, Any], index: np.ndarray | None) -> dict[str, Any]:
    """The sweep axes' values of the networks ``index`` (None: all)."""
    return axes if index is None else {k: np.asarray(v)[index] for k, v in axes.items()}


def _full_rows(metrics: dict[str, np.ndarray], active: np.ndarray | None) -> dict:
    """Metrics of the active networks (first rows; padding after) as rows of all G
    (NaN for the retired)."""
    if active is None or active.all():
        return metrics
    out = {}
    for k, v in metrics.items():
        v = np.asarray(v)
        full = np.full((active.size, *v.shape[1:]), np.nan, np.result_type(v, np.float32))
        full[active] = v[: active.sum()]
        out[k] = full
    return out


def drive(
    states: Any,
    executor: Executor,
    schedule: Schedule,
    sink: Sink,
    axes: Mapping[str, Any] | None = None,
    rule: Rule | None = None,
    *,
    retire: Retire | None = None,
    budgets: Any = None,
) -> Any:
    """Train ``states`` from their epoch to ``schedule.epochs``; return the final states.

    ``axes``: per-network values of the sweep axes, for interventions whose value
    names an axis (`ghostmech.training.interventions`). ``rule``: interventions
    decided from the metrics; ``retire`` / ``budgets`` (int ``[G]``): networks
    leave the run when decided / after that many epochs (module docstring; a
    stack of G networks).
    """
    axes = dict(axes or {})
    e = first_epoch(states)
    active = None
    width = 1
    if retire is not None or budgets is not None:
        active = np.ones(size(states), bool)
        width = _width(executor, states)
    if budgets is not None:
        budgets = _budgets(states, budgets, schedule.epochs)
    decided: tuple = ()
    while True:
        if e in schedule.checkpoints:
            sink.checkpoint(e, states)
        for iv in (*schedule.at(e), *decided):
            states, _ = _on_active(states, active, width, lambda s, i, iv=iv: (
                executor.apply(s, iv, _rows(axes, i)), None))  # fmt: skip
        if budgets is not None:
            active &= budgets > e
        if e >= schedule.epochs or (active is not None and not active.any()):
            return states
        stop = schedule.stop_after(e)
        if rule is not None:
            stop = min(stop, rule.stop_after(e))
        if budgets is not None:
            stop = min(stop, int(budgets[active].min()))
        was = None if active is None else active.copy()
        states, metrics = _on_active(
            states, was, width, lambda s, i, e=e, n=stop - e: executor.run(s, e, n)
        )
        metrics = _full_rows(metrics, was)
        sink.chunk(e, stop, metrics, states)
        decided = () if rule is None else tuple(rule.decide(e, stop, metrics))
        if retire is not None:
            active &= ~np.asarray(retire.retire(e, stop, metrics, was), bool)
        e = stop
