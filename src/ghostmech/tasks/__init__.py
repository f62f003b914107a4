"""ghostmech.tasks: the paper's three tasks as arrays (docs/model.md §3).

Each task is a frozen ``eqx.Module`` with static timings in steps (or built from
ms with ``Task.from_ms(dt_ms=5.0, ...)``) and returns `TaskBatch` arrays shaped
``[time, batch, channels]``.

>>> from ghostmech.tasks import TASKS
>>> sorted(TASKS)
['da', 'dcd', 'dmts']
"""

from __future__ import annotations

from ghostmech._checks import check_one_of
from ghostmech.tasks.base import Task, TaskBatch, steps_from_ms
from ghostmech.tasks.cue_discrimination import DelayedCueDiscrimination
from ghostmech.tasks.delayed_activation import DelayedActivation
from ghostmech.tasks.match_to_sample import DelayedMatchToSample

TASKS: dict[str, type[Task]] = {
    "da": DelayedActivation,
    "dcd": DelayedCueDiscrimination,
    "dmts": DelayedMatchToSample,
}


def make_task(name: str, *, dt_ms: float | None = None, **windows: float) -> Task:
    """Build a task by registry name; windows in steps, or in ms when ``dt_ms`` is given.

    Accepts the ``task`` dicts of ``ghostmech.networks.PRESETS``:

    >>> make_task("dcd", dt_ms=5.0, input=10, delay=50, response=50).n_steps
    22
    """
    cls = TASKS[check_one_of("task", name, TASKS)]
    return cls(**windows) if dt_ms is None else cls.from_ms(dt_ms=dt_ms, **windows)


__all__ = [
    "make_task",
    "TASKS",
    "Task",
    "TaskBatch",
    "DelayedActivation",
    "DelayedCueDiscrimination",
    "DelayedMatchToSample",
    "steps_from_ms",
]
