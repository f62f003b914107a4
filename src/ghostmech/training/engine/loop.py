"""`drive`: THE loop over chunks, checkpoints and interventions (the only one).

`fit`, `sweep`, `ghostmech.runs.run_experiment` and the blocks of
`ghostmech.runs.blocks` all train through it; they differ only in the
`Executor` (how a chunk is computed) and the `Sink` (where its results go).

At epoch e (= updates done, read from the state, so a reloaded state resumes):

1. ``sink.checkpoint(e, states)`` if e is a checkpoint epoch;
2. apply the interventions scheduled at e, then those a `Rule` decided at e;
3. stop if e is the last epoch; else train to ``schedule.stop_after(e)`` (or the
   rule's earlier ``rule.stop_after(e)``) and hand the chunk's recorded metrics
   to ``sink.chunk(e, stop, metrics, states)`` and to ``rule.decide``.

A `Rule` is an intervention that depends on the run's own numbers (e.g. the
rescue from the no-learning zone, `ghostmech.training.rescue`): after each
chunk it reads the chunk's metrics and returns the interventions to apply at
the chunk's last epoch; it may also end a chunk early (a check every k epochs).

Every epoch depends only on (state, e) (`ghostmech.training.step`), so the
chunking, and a resume from any saved state, never change the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from ghostmech.training.engine.executors import Executor
from ghostmech.training.engine.schedule import Schedule

__all__ = ["Sink", "MemorySink", "Rule", "drive", "first_epoch"]


class Sink(Protocol):
    def checkpoint(self, epoch: int, states: Any) -> None: ...

    def chunk(self, start: int, stop: int, metrics: dict[str, np.ndarray], states: Any) -> None: ...


class Rule(Protocol):
    def stop_after(self, epoch: int) -> int: ...

    def decide(self, start: int, stop: int, metrics: dict[str, np.ndarray]) -> tuple: ...


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


def drive(
    states: Any,
    executor: Executor,
    schedule: Schedule,
    sink: Sink,
    axes: Mapping[str, Any] | None = None,
    rule: Rule | None = None,
) -> Any:
    """Train ``states`` from their epoch to ``schedule.epochs``; return the final states.

    ``axes``: per-network values of the sweep axes, for interventions whose value
    names an axis (`ghostmech.training.interventions`). ``rule``: interventions
    decided from the metrics (module docstring).
    """
    axes = dict(axes or {})
    e = first_epoch(states)
    decided: tuple = ()
    while True:
        if e in schedule.checkpoints:
            sink.checkpoint(e, states)
        for iv in (*schedule.at(e), *decided):
            states = executor.apply(states, iv, axes)
        if e >= schedule.epochs:
            return states
        stop = schedule.stop_after(e)
        if rule is not None:
            stop = min(stop, rule.stop_after(e))
        states, metrics = executor.run(states, e, stop - e)
        sink.chunk(e, stop, metrics, states)
        decided = () if rule is None else tuple(rule.decide(e, stop, metrics))
        e = stop
