"""The schedule of a training run: epochs, chunk, checkpoints, interventions, record stride.

Epoch e counts the updates done. At each event epoch (a checkpoint, an
intervention, the end) training stops; otherwise it runs in chunks of at most
``chunk`` epochs (one compiled call each). At epoch e the checkpoint (if any)
is taken BEFORE the interventions scheduled at e are applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ghostmech._checks import check_int_in_range, check_positive_int
from ghostmech.training.checkpoints import checkpoint_epochs
from ghostmech.training.interventions import Intervention

__all__ = ["Schedule", "make_schedule"]


@dataclasses.dataclass(frozen=True)
class Schedule:
    """``epochs`` updates in chunks of ``chunk``; ``checkpoints`` (sorted epochs);
    ``interventions``; ``record_every = k``: metrics of epochs 0, k, 2k, ... only."""

    epochs: int
    chunk: int
    checkpoints: tuple[int, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    record_every: int = 1

    def at(self, epoch: int) -> tuple[Intervention, ...]:
        """The interventions applied at ``epoch`` (in the order given)."""
        return tuple(iv for iv in self.interventions if iv.epoch == epoch)

    def stop_after(self, epoch: int) -> int:
        """Where the chunk starting at ``epoch`` ends: the next event or ``epoch + chunk``."""
        events = {*self.checkpoints, *(iv.epoch for iv in self.interventions), self.epochs}
        return min(min(x for x in events if x > epoch), epoch + self.chunk)


def make_schedule(
    epochs: int,
    *,
    chunk: int = 1000,
    checkpoints: Any = None,
    interventions: Sequence[Intervention] = (),
    record_every: int = 1,
) -> Schedule:
    """A validated `Schedule` (``checkpoints``: any spec of `checkpoint_epochs`;
    ``chunk`` capped at ``epochs``)."""
    epochs = check_positive_int("epochs", epochs)
    ckpts = checkpoint_epochs(checkpoints, epochs)
    for i, iv in enumerate(interventions):
        if not isinstance(iv, Intervention):
            raise ValueError(f"`interventions[{i}]` (={iv!r}) must be an Intervention")
        check_int_in_range(f"interventions[{i}].epoch", iv.epoch, 0, epochs)
    return Schedule(
        epochs=epochs,
        chunk=min(check_positive_int("chunk", chunk), epochs),
        checkpoints=tuple(ckpts),
        interventions=tuple(interventions),
        record_every=check_positive_int("record_every", record_every),
    )
