"""`fit`: train one network on a task, in jitted chunks, with checkpoints and interventions.

Training is split at every checkpoint and intervention epoch and otherwise
runs in chunks of ``chunk`` epochs (one `train_chunk` call = one host round
trip). The chunking never changes the result (see `ghostmech.training.step`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from jaxtyping import PRNGKeyArray

from ghostmech._checks import check_int_in_range, check_one_of, check_positive_int
from ghostmech.training import distinct_trials
from ghostmech.training.checkpoints import checkpoint_epochs
from ghostmech.training.interventions import Intervention
from ghostmech.training.state import OPTIMIZERS, TrainState, init_state
from ghostmech.training.step import METRICS, recorded_slots, train_chunk

__all__ = ["FitResult", "fit", "resolve_batch", "drive"]

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


def check_schedule(epochs: int, checkpoints: Any, interventions: Sequence[Intervention]):
    """Validate ``epochs``, the checkpoint spec and intervention epochs; return the epochs."""
    epochs = check_positive_int("epochs", epochs)
    ckpts = checkpoint_epochs(checkpoints, epochs)
    for i, iv in enumerate(interventions):
        if not isinstance(iv, Intervention):
            raise ValueError(f"`interventions[{i}]` (={iv!r}) must be an Intervention")
        check_int_in_range(f"interventions[{i}].epoch", iv.epoch, 0, epochs)
    return epochs, ckpts


def drive(
    state: Any,
    *,
    run: Callable[[Any, int], tuple[Any, dict[str, Any]]],
    apply: Callable[[Any, Intervention], Any],
    snapshot: Callable[[Any], Any],
    epochs: int,
    chunk: int,
    checkpoints: tuple[int, ...],
    interventions: Sequence[Intervention],
    record_every: int = 1,
) -> tuple[Any, dict[str, np.ndarray], dict[int, Any]]:
    """Host loop shared by `fit` and `sweep`: chunks, checkpoints, interventions.

    ``run(state, n)`` trains n ≤ ``chunk`` epochs and returns metrics whose last
    axis holds the recorded epochs of those n first (every epoch, or with
    ``record_every = k`` those ≡ 0 mod k: `recorded_slots`); at each epoch e the
    checkpoint (if any) is taken BEFORE the interventions scheduled at e are applied.
    """
    events = sorted({*checkpoints, *(iv.epoch for iv in interventions), epochs})
    parts: dict[str, list[np.ndarray]] = {k: [] for k in METRICS}
    saved: dict[int, Any] = {}
    e = 0
    while True:
        if e in checkpoints:
            saved[e] = snapshot(state)
        for iv in interventions:
            if iv.epoch == e:
                state = apply(state, iv)
        if e >= epochs:
            break
        stop = min(next(x for x in events if x > e), e + chunk)
        state, m = run(state, stop - e)
        count = recorded_slots(e, stop - e, record_every)[1]
        for k in METRICS:
            parts[k].append(np.asarray(m[k])[..., :count])
        e = stop
    return state, {k: np.concatenate(v, axis=-1) for k, v in parts.items()}, saved


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
    epochs, ckpts = check_schedule(epochs, checkpoints, interventions)
    chunk = min(check_positive_int("chunk", chunk), epochs)
    every = check_positive_int("record_every", record_every)
    data = resolve_batch(task, batch, dedupe_trials)
    state = init_state(net, optimizer=optimizer, lr=lr, key=key, **hyper)
    state, metrics, saved = drive(
        state,
        run=lambda s, n: train_chunk(s, task, chunk, batch=data, n_active=n, record_every=every),
        apply=lambda s, iv: iv.apply(s),
        snapshot=lambda s: s.net,
        epochs=epochs,
        chunk=chunk,
        checkpoints=ckpts,
        interventions=interventions,
        record_every=every,
    )
    return FitResult(
        params=state.net,
        metrics=metrics,
        checkpoints=saved,
        status=int(state.status),
        nan_epoch=int(state.nan_epoch),
        state=state,
        record_every=every,
    )
