"""Shared field types of the config schema: strict models, log-spaced axes, batch specs.

Unions are picked by the value's shape (`_either`), so a bad value reports the
one branch it was meant for instead of every branch of the union.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

__all__ = [
    "PosFloat",
    "NonNegFloat",
    "PosInt",
    "NonNegInt",
    "Rank",
    "Strict",
    "LogSpace",
    "RepeatBatch",
    "SampleBatch",
    "Batch",
    "FloatAxis",
    "SeedAxis",
    "TASK_WINDOWS",
]

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosInt = Annotated[int, Field(ge=1, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]
Rank = PosInt | Literal["full"]

TASK_WINDOWS = {"da": ("delay", "response"), "dcd": ("input", "delay", "response")}
TASK_WINDOWS["dmts"] = TASK_WINDOWS["dcd"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogSpace(Strict):
    """``numpy.logspace(start, stop, num)``: ``num`` values from 10**start to 10**stop."""

    start: float
    stop: float
    num: PosInt

    def values(self) -> list[float]:
        return [float(v) for v in np.logspace(self.start, self.stop, self.num)]


class RepeatBatch(Strict):
    repeat: PosInt  # every trial type, ``repeat`` times (deterministic)


class SampleBatch(Strict):
    sample: PosInt  # ``sample`` random trials per epoch, drawn from the run's key


def _shape_tag(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return (
            "RepeatBatch" if "repeat" in value else "SampleBatch" if "sample" in value else "table"
        )
    if isinstance(value, BaseModel):
        return type(value).__name__ if isinstance(value, RepeatBatch | SampleBatch) else "table"
    return "scalar"


def _either(*options: tuple[Any, str], allowed: str) -> Any:
    """A union picked by the value's shape, so an error reports one branch, not every branch."""
    union = tuple(Annotated[t, Tag(tag)] for t, tag in options)
    disc = Discriminator(_shape_tag, custom_error_type="shape", custom_error_message=allowed)
    return Annotated[Union[union], disc]  # noqa: UP007 - a runtime-built union


Batch = _either(
    (Literal["all"], "scalar"),
    (RepeatBatch, "RepeatBatch"),
    (SampleBatch, "SampleBatch"),
    allowed="must be 'all', {repeat = n} or {sample = n}",
)
FloatAxis = _either(
    (list[PosFloat], "list"),
    (LogSpace, "table"),
    allowed="must be a list of positive numbers or {start, stop, num} (log10 exponents)",
)
SeedAxis = _either(
    (list[NonNegInt], "list"),
    (PosInt, "scalar"),
    allowed="must be a list of seeds or a count n (seeds 0 .. n-1)",
)
