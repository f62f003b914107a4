"""The grid of a run: the axes of a config's ``[grid]`` as coordinates, and its points.

Dims are ``lr`` and ``seed`` always, then ``beta``, ``noise_std`` and named
``axes`` when the config gives them; ``rank`` (which changes array shapes) is
not a dim of one compiled grid but a list of *parts*, each trained separately
and stored along a leading ``rank`` dim. Points are enumerated in C order, so
network g of a part sits at ``np.unravel_index(g, grid.shape)``.

>>> from ghostmech.runs.config import config_from_dict
>>> cfg = config_from_dict({"name": "x", "task": {"name": "da", "timings": {"delay": 2, "response": 2}},
...                         "training": {"epochs": 3}, "grid": {"lr": [0.1, 0.2], "seed": 3}})
>>> g = resolve_grid(cfg)
>>> g.dims, g.shape, g.size
(('lr', 'seed'), (2, 3), 6)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ghostmech.runs.config import ExperimentConfig, LogSpace

__all__ = ["Grid", "resolve_grid", "rank_label", "FULL_RANK"]

#: the value that stands for rank "full" on the ``rank`` coordinate (an int axis)
FULL_RANK = 0


def rank_label(rank: int | str) -> int:
    """Integer coordinate of a rank: K itself, or `FULL_RANK` (0) for "full"."""
    return FULL_RANK if rank == "full" else int(rank)


def _values(axis: Any) -> list[float]:
    return axis.values() if isinstance(axis, LogSpace) else [float(v) for v in axis]


@dataclasses.dataclass(frozen=True)
class Grid:
    """Coordinates of one part of a run (every part of a run shares them)."""

    coords: dict[str, np.ndarray]
    ranks: tuple[int | str, ...] | None  # None: no rank dim (one part)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.coords.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def parts(self) -> tuple[int | str | None, ...]:
        return (None,) if self.ranks is None else self.ranks

    def points(self) -> dict[str, np.ndarray]:
        """``{dim: values [size]}``: the coordinate of every network, C order."""
        mesh = np.meshgrid(*self.coords.values(), indexing="ij")
        return {d: m.reshape(-1) for d, m in zip(self.dims, mesh, strict=True)}

    def index(self, **point: Any) -> int:
        """Flat index of the network at ``point`` (every dim given, nearest match for floats)."""
        missing = [d for d in self.dims if d not in point and len(self.coords[d]) > 1]
        unknown = [d for d in point if d not in self.dims]
        if missing or unknown:
            raise ValueError(
                f"point (={point}) must give each of {list(self.dims)} "
                f"(missing {missing}, unknown {unknown})"
            )
        idx = []
        for d in self.dims:
            values = self.coords[d]
            if d not in point:
                idx.append(0)
                continue
            hits = np.flatnonzero(np.isclose(values, point[d], rtol=1e-9, atol=0))
            if not hits.size:
                raise ValueError(f"`{d}` (={point[d]!r}) is not on the grid; values: {values}")
            idx.append(int(hits[0]))
        return int(np.ravel_multi_index(idx, self.shape))


def resolve_grid(config: ExperimentConfig) -> Grid:
    """The grid a config describes (absent axes take the single value of their table)."""
    g, tr = config.grid, config.training
    coords: dict[str, np.ndarray] = {
        "lr": np.asarray(_values(g.lr) if g.lr is not None else [tr.lr], np.float64),
    }
    if isinstance(g.seed, int):
        seeds = list(range(g.seed))
    else:
        seeds = g.seed if g.seed is not None else [tr.seed]
    coords["seed"] = np.asarray(seeds, np.int64)
    if g.beta is not None:
        coords["beta"] = np.asarray(_values(g.beta), np.float64)
    if g.noise_std is not None:
        coords["noise_std"] = np.asarray(g.noise_std, np.float64)
    for name, axis in g.axes.items():
        coords[name] = np.asarray(_values(axis), np.float64)
    return Grid(coords=coords, ranks=tuple(g.rank) if g.rank is not None else None)
