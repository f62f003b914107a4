"""Which epochs to checkpoint: an explicit list, every k epochs, or log-spaced.

A checkpoint at epoch e holds the network after e updates (e = 0: the initial
network, e = ``epochs``: the final one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ghostmech._checks import check_int_in_range, check_positive_int

__all__ = ["checkpoint_epochs"]


def checkpoint_epochs(spec: Any, epochs: int) -> tuple[int, ...]:
    """Sorted unique epochs in ``[0, epochs]`` described by ``spec``.

    ``spec`` is one of

    * ``None``                      no checkpoints;
    * a sequence of ints            those epochs (each must lie in [0, epochs]);
    * ``{"every": k}``              0, k, 2k, ... and ``epochs``;
    * ``{"log": n}``                0 and about n log-spaced epochs in [1, epochs].

    >>> checkpoint_epochs({"every": 4}, 10)
    (0, 4, 8, 10)
    >>> checkpoint_epochs({"log": 4}, 1000)
    (0, 1, 10, 100, 1000)
    """
    epochs = check_positive_int("epochs", epochs)
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        if set(spec) == {"every"}:
            k = check_positive_int("checkpoints['every']", spec["every"])
            return tuple(sorted({*range(0, epochs + 1, k), epochs}))
        if set(spec) == {"log"}:
            n = check_positive_int("checkpoints['log']", spec["log"])
            grid = np.unique(np.round(np.logspace(0, np.log10(epochs), n)).astype(int))
            return tuple(sorted({0, *(int(e) for e in grid)}))
        raise ValueError(
            f"`checkpoints` (={dict(spec)!r}) must be a list of epochs, "
            "{'every': k} or {'log': n}"
        )
    if isinstance(spec, Sequence | np.ndarray) and not isinstance(spec, str):
        return tuple(sorted({check_int_in_range("checkpoints", e, 0, epochs) for e in list(spec)}))
    raise ValueError(
        f"`checkpoints` (={spec!r}) must be None, a list of epochs, {{'every': k}} or {{'log': n}}"
    )
