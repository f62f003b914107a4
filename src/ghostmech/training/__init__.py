"""ghostmech.training: losses, jitted training chunks, fit, grid sweeps, interventions.

* `loss_and_metrics` (docs/model.md §2 losses and accuracies, vmapped over trials);
* `TrainState` / `init_state` (optax optimisers by name, hyper-parameters as data);
* `train_chunk` (jitted ``lax.scan`` over epochs), `fit` (one network), `sweep`
  (a grid lrs × seeds × axes, one vmapped program or a loop);
* interventions (`SetLR`, `SetValue`, `Freeze`, `Unfreeze`, `FixConfidence`);
* `detect` (plateaus, abrupt drops, the no-learning zone).
"""

from __future__ import annotations

from ghostmech.training.checkpoints import checkpoint_epochs
from ghostmech.training.detect import Detection, detect, jumps, no_learning, plateaus
from ghostmech.training.fit import FitResult, fit
from ghostmech.training.interventions import (
    FixConfidence,
    Freeze,
    Intervention,
    SetHyper,
    SetLR,
    SetValue,
    Unfreeze,
)
from ghostmech.training.losses import da_loss, forward, loss_and_metrics, mse_loss
from ghostmech.training.state import OPTIMIZERS, TrainState, init_state, make_optimizer
from ghostmech.training.step import METRICS, run_chunk, train_chunk, train_step
from ghostmech.training.sweep import BACKENDS, SweepResult, sweep

__all__ = [
    "BACKENDS",
    "METRICS",
    "OPTIMIZERS",
    "Detection",
    "FitResult",
    "FixConfidence",
    "Freeze",
    "Intervention",
    "SetHyper",
    "SetLR",
    "SetValue",
    "SweepResult",
    "TrainState",
    "Unfreeze",
    "checkpoint_epochs",
    "da_loss",
    "detect",
    "fit",
    "forward",
    "init_state",
    "jumps",
    "loss_and_metrics",
    "make_optimizer",
    "mse_loss",
    "no_learning",
    "plateaus",
    "run_chunk",
    "sweep",
    "train_chunk",
    "train_step",
]
