"""Argument validators shared by every layer.

Each validator raises ``ValueError`` whose message names the argument, shows
the value it got and says what is allowed, e.g.::

    ValueError: `T` (=-5) must be a positive finite number

They are for host-side (Python) checks before tracing. Inside ``jit`` use
``eqx.error_if`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

__all__ = [
    "check_finite",
    "check_one_of",
    "check_positive",
    "check_nonnegative",
    "check_positive_int",
    "check_nonnegative_int",
    "check_int_in_range",
    "check_probability",
]


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _as_float(name: str, value: Any) -> float:
    if not _is_real(value):
        # numpy / jax scalars (0-d arrays) are accepted; anything else is not.
        try:
            import numpy as np

            arr = np.asarray(value)
        except Exception:  # pragma: no cover - defensive
            arr = None
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iuf":
            raise ValueError(
                f"`{name}` (={value!r}) must be a real number, got {type(value).__name__}"
            )
        value = arr.item()
    return float(value)


def check_finite(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    v = _as_float(name, value)
    if not math.isfinite(v):
        raise ValueError(f"`{name}` (={value!r}) must be a finite number")
    return v


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise unless it is finite and > 0."""
    v = check_finite(name, value)
    if v <= 0:
        raise ValueError(f"`{name}` (={value!r}) must be a positive finite number")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise unless it is finite and >= 0."""
    v = check_finite(name, value)
    if v < 0:
        raise ValueError(f"`{name}` (={value!r}) must be a non-negative finite number")
    return v


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise unless 0 <= value <= 1."""
    v = check_finite(name, value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"`{name}` (={value!r}) must lie in [0, 1]")
    return v


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        try:
            import numpy as np

            arr = np.asarray(value)
        except Exception:  # pragma: no cover - defensive
            arr = None
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iu":
            raise ValueError(
                f"`{name}` (={value!r}) must be an integer, got {type(value).__name__}"
            )
        value = arr.item()
    return int(value)


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= 1."""
    v = _as_int(name, value)
    if v < 1:
        raise ValueError(f"`{name}` (={value!r}) must be a positive integer")
    return v


def check_nonnegative_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= 0."""
    v = _as_int(name, value)
    if v < 0:
        raise ValueError(f"`{name}` (={value!r}) must be a non-negative integer")
    return v


def check_int_in_range(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` as an int, or raise unless ``low <= value <= high``."""
    v = _as_int(name, value)
    if not low <= v <= high:
        raise ValueError(f"`{name}` (={value!r}) must be an integer in [{low}, {high}]")
    return v


def check_one_of(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise listing them."""
    allowed = list(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` (={value!r}) must be one of: {choices}")
    return value
