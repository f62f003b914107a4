"""The tables of a config: ``[task]``, ``[network]``, ``[training]``, ``[grid]``,
``[checkpoints]``, ``[[interventions]]``, ``[output]`` (see `ghostmech.runs.config`)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ghostmech.runs._types import (
    TASK_WINDOWS,
    Batch,
    FloatAxis,
    NonNegFloat,
    NonNegInt,
    PosFloat,
    PosInt,
    Rank,
    SeedAxis,
    Strict,
)

__all__ = [
    "TaskConfig",
    "NetworkConfig",
    "TrainingConfig",
    "GridConfig",
    "CheckpointsConfig",
    "InterventionConfig",
    "OutputConfig",
    "INTERVENTION_KINDS",
]


class TaskConfig(Strict):
    name: Literal["da", "dcd", "dmts"]
    units: Literal["steps", "ms"] = "steps"
    dt_ms: PosFloat = 5.0
    timings: dict[str, PosFloat]
    batch: Batch = "all"

    @field_validator("timings")
    @classmethod
    def _windows(cls, timings: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        name, units, dt = (info.data.get(k) for k in ("name", "units", "dt_ms"))
        need = TASK_WINDOWS.get(name, tuple(timings))
        if set(timings) != set(need):
            raise ValueError(f"task {name!r} needs exactly: {', '.join(need)} (got {timings})")
        for k, v in timings.items():
            steps = v / dt if units == "ms" and dt else v
            if not math.isclose(steps, round(steps), abs_tol=1e-9):
                raise ValueError(f"{k} (={v} {units}) must be a whole number of steps")
        return timings

    def steps(self) -> dict[str, int]:
        """Window lengths in Euler steps."""
        div = self.dt_ms if self.units == "ms" else 1.0
        return {k: round(v / div) for k, v in self.timings.items()}


def _check_init(spec: str | dict[str, Any]) -> str | dict[str, Any]:
    from ghostmech.networks.initialisers import resolve_init

    if isinstance(spec, str):
        from ghostmech.networks.presets import PRESETS

        if spec not in PRESETS:
            raise ValueError(f"(={spec!r}) must be a preset, one of: {', '.join(PRESETS)}")
        return spec
    from ghostmech.networks.builders import FIELDS

    for field, item in spec.items():
        if field not in FIELDS:
            raise ValueError(f"[{field!r}]: unknown field; allowed: {', '.join(FIELDS)}")
        resolve_init(field, item)
    return spec


class NetworkConfig(Strict):
    """The network; ``preset`` (a `ghostmech.networks.PRESETS` name) fills every key not given."""

    preset: str | None = None
    n: PosInt = 100
    rank: Rank = "full"
    init: str | dict[str, str | dict[str, Any]] = {}
    readout: str = "linear"
    readout_kwargs: dict[str, float | str] = {}
    alpha: Annotated[float, Field(gt=0, le=1)] = 0.5
    noise_std: NonNegFloat = 0.0
    noise_scaling: Literal["paper", "sde"] = "paper"
    read: Literal["after", "before"] = "after"
    frozen: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("preset") is None:
            return data
        from ghostmech.networks import PRESETS

        name = data["preset"]
        if not isinstance(name, str) or name not in PRESETS:
            raise ValueError(f".preset (={name!r}) must be one of: {', '.join(PRESETS)}")
        preset = PRESETS[name].network_kwargs()
        preset["init"] = {
            k: dict(v) if isinstance(v, dict) else v for k, v in preset["init"].items()
        }
        preset["readout_kwargs"] = dict(preset["readout_kwargs"])
        preset["frozen"] = list(preset["frozen"])
        return {**preset, **data}

    @field_validator("rank")
    @classmethod
    def _rank_le_n(cls, rank: int | str, info: ValidationInfo) -> int | str:
        n = info.data.get("n", rank)
        if rank != "full" and rank > n:
            raise ValueError(f"(={rank}) must be 'full' or an integer in [1, n={n}]")
        return rank

    @field_validator("init")
    @classmethod
    def _init_names(cls, init: str | dict[str, Any]) -> str | dict[str, Any]:
        return _check_init(init)

    @field_validator("readout")
    @classmethod
    def _readout_name(cls, readout: str) -> str:
        from ghostmech.networks.readouts import READOUTS

        if readout not in READOUTS:
            raise ValueError(f"(={readout!r}) must be one of: {', '.join(READOUTS)}")
        return readout


class TrainingConfig(Strict):
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    lr: PosFloat = 1e-3
    seed: NonNegInt = 0
    epochs: PosInt
    chunk: PosInt = 1000
    backend: Literal["auto", "vmap", "loop", "kernel"] = "auto"
    clip_norm: PosFloat | None = None  # clip the gradient's global norm (any optimizer)


def _no_repeats(value: Any) -> Any:
    if isinstance(value, list) and len(set(value)) != len(value):
        raise ValueError(f"(={value}) must not repeat a value")
    if isinstance(value, list) and not value:
        raise ValueError("must not be empty")
    return value


class GridConfig(Strict):
    """Axes of the sweep; each absent axis takes the single value from its table.

    ``axes`` holds named axes that only interventions read (``value = "beta_after"``).
    """

    lr: FloatAxis | None = None
    seed: SeedAxis | None = None
    beta: FloatAxis | None = None
    noise_std: list[NonNegFloat] | None = None
    rank: list[Rank] | None = None
    axes: dict[str, FloatAxis] = {}

    _distinct = field_validator("lr", "seed", "beta", "noise_std", "rank")(_no_repeats)

    @field_validator("axes")
    @classmethod
    def _free_names(cls, axes: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(set(axes) & {"lr", "seed", "beta", "noise_std", "rank", "epoch"})
        if taken:
            raise ValueError(
                f" (={taken}) must not reuse the names lr, seed, beta, noise_std, rank"
            )
        return axes


class CheckpointsConfig(Strict):
    epochs: list[NonNegInt] | None = None
    every: PosInt | None = None
    log: PosInt | None = None  # number of log-spaced epochs

    @model_validator(mode="after")
    def _one(self) -> CheckpointsConfig:
        given = [k for k in ("epochs", "every", "log") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of epochs / every / log (got {given})")
        return self

    def spec(self) -> Any:
        """The spec `ghostmech.training.checkpoint_epochs` takes."""
        if self.every is not None:
            return {"every": self.every}
        return {"log": self.log} if self.log is not None else self.epochs


INTERVENTION_KINDS = {  # kind -> fields it needs
    "set_value": ("path", "value"),
    "set_lr": ("value",),
    "fix_confidence": (),
    "freeze": ("paths",),
    "unfreeze": ("paths",),
}


class InterventionConfig(Strict):
    """At ``epoch`` (after that many updates) change the state; ``value`` may name a grid axis."""

    epoch: NonNegInt
    kind: Literal["set_value", "set_lr", "fix_confidence", "freeze", "unfreeze"]
    path: str | None = None
    paths: list[str] | None = None
    value: float | str | None = None

    @model_validator(mode="after")
    def _fields(self) -> InterventionConfig:
        need = INTERVENTION_KINDS[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"kind {self.kind!r} needs {', '.join(need)}; missing {missing}")
        return self


class OutputConfig(Strict):
    save_checkpoints: bool = True
    memory_limit_gb: PosFloat | None = None  # default: 80% of the available RAM
