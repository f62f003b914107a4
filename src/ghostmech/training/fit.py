"""`fit`: train one network on a task, in jitted chunks, with checkpoints and interventions.

Training goes through the engine (`ghostmech.training.engine.drive`, the one
loop): split at every checkpoint and intervention epoch and otherwise run in
chunks of ``chunk`` epochs (one `train_chunk` call = one host round trip). The
chunking never changes the result (see `ghostmech.training.step`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from jaxtyping import PRNGKeyArray

from ghostmech._checks import check_one_of, check_positive_int
from ghostmech.training import distinct_trials
from ghostmech.training.engine import MemorySink, OneNetwork, drive, make_schedule
from ghostmech.training.interventions import Intervention
from ghostmech.training.state import OPTIMIZERS, TrainState, init_state

__all__ = ["FitResult", "fit", "resolve_batch"]

STATUS = {0: "ok", 1: "diverged"}


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Outcome of `fit`.

    ``params``: the final network; ``metrics``: ``{"loss", "grad_norm",
    "accuracy"}`` each ``[epochs]`` (value at the parameters before that
    epoch's update; NaN after divergence; with ``record_every = k`` only epochs
    0, k, 2k, ...); ``checkpoints``: ``{epoch: network}``;
    ``status``: 0 ok, 1 diverged (``nan_epoch`` = the epoch whose loss or
    gradient was non-finite, −1 if none); ``state``: the final `TrainState`
    (to continue training); ``record_every``: the metrics' epoch stride.
    """

    params: Any
    metrics: dict[str, np.ndarray]
    checkpoints: dict[int, Any]
    status: int
    nan_epoch: int
    state: TrainState
    record_every: int = 1


def resolve_batch(task: Any, batch: Any, dedupe_trials: bool = True) -> Any:
    """``"all"`` -> ``task.all_trials()``; an int n -> sample n trials per epoch; a TaskBatch as is.

    ``dedupe_trials=True``: wrapped by `distinct_trials.resolve` so that, when no
    noise is drawn, identical trials are computed once (same results up to rounding).
    """
    if not isinstance(dedupe_trials, bool | np.bool_):
        raise ValueError(f"`dedupe_trials` (={dedupe_trials!r}) must be True or False")
    return distinct_trials.resolve(task, _plain_batch(task, batch), bool(dedupe_trials))


def _plain_batch(task: Any, batch: Any) -> Any:
    if isinstance(batch, str):
        if batch != "all":
            raise ValueError(f"`batch` (={batch!r}) must be 'all', an int or a TaskBatch")
        return task.all_trials()
    if isinstance(batch, int | np.integer) and not isinstance(batch, bool):
        return check_positive_int("batch", batch)
    if hasattr(batch, "inputs") and hasattr(batch, "targets") and hasattr(batch, "mask"):
        return batch
    raise ValueError(f"`batch` (={batch!r}) must be 'all', an int or a TaskBatch")


def fit(
    net: Any,
    task: Any,
    *,
    optimizer: str = "sgd",
    lr: float,
    epochs: int,
    key: PRNGKeyArray,
    batch: Any = "all",
    checkpoints: Any = None,
    interventions: Sequence[Intervention] = (),
    chunk: int = 1000,
    record_every: int = 1,
    dedupe_trials: bool = True,
    **hyper: Any,
) -> FitResult:
    """Train ``net`` on ``task`` for ``epochs`` updates of ``optimizer`` at learning rate ``lr``.

    ``batch``: ``"all"`` (every trial type each epoch), an int (sample that many
    trials per epoch from the epoch's key) or a fixed TaskBatch (e.g.
    ``task.repeat_trials(n)``). ``checkpoints``: see `checkpoint_epochs`.
    ``record_every = k``: keep the metrics of epochs 0, k, 2k, ... only
    (subsampled; ``metrics[...]`` has ``ceil(epochs / k)`` entries).
    ``dedupe_trials`` (default True): while no noise is drawn (σ = 0), run
    each distinct trial of the batch once, weighted by its multiplicity
    (`ghostmech.training.distinct_trials`; exact up to float rounding: e.g. the
    1000 trials of a DCD batch are 2 computations); False runs every trial.
    ``hyper``: the optimiser's other hyper-parameters (``momentum``, ``b1``...).
    """
    check_one_of("optimizer", optimizer, OPTIMIZERS)
    schedule = make_schedule(epochs, chunk=chunk, checkpoints=checkpoints,
                             interventions=interventions, record_every=record_every)  # fmt: skip
    data = resolve_batch(task, batch, dedupe_trials)
    state = init_state(net, optimizer=optimizer, lr=lr, key=key, **hyper)
    sink = MemorySink()
    one = OneNetwork(task, data, schedule.chunk, schedule.record_every)
    state = drive(state, one, schedule, sink)
    return FitResult(
        params=state.net,
        metrics=sink.metrics(),
        checkpoints=sink.saved,
        status=int(state.status),
        nan_epoch=int(state.nan_epoch),
        state=state,
        record_every=schedule.record_every,
    )
