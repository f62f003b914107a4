"""Read learning curves: plateaus, abrupt loss drops (jumps), the no-learning zone.

Host-side (numpy) functions of one network's per-epoch curves; apply them to
each network of a sweep. With ``w`` the window and ``s`` the loss scale
(max finite loss of the curve):

* plateau: a maximal run of at least ``min_length`` epochs e whose loss
  changes by at most ``flat_tol·s`` over [e, e + w] and stays above
  ``floor·s`` (a converged, near-zero loss is not a plateau); onset = first
  epoch, offset = last epoch + w;
* jump: a maximal run of epochs whose loss falls by at least ``drop_tol·s``
  over [e, e + w]; reported at the epoch of the run's largest one-epoch fall
  (the drop is then abrupt: most of it happens within ``w`` epochs);
* no-learning: epochs where the gradient norm is below ``grad_tol`` while the
  loss stays above ``high·loss[0]``; ``trapped_from`` is the first epoch from
  which that holds to the end (SPEC §2: gradient ≈ 0 at a high loss).

NaN epochs (after divergence) never belong to any of them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ghostmech._checks import check_positive, check_positive_int

__all__ = ["Detection", "detect", "plateaus", "jumps", "no_learning", "true_runs"]


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[(start, stop_inclusive)] of the True runs of a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _scale(loss: np.ndarray) -> float:
    finite = loss[np.isfinite(loss)]
    return float(np.max(np.abs(finite))) if finite.size else 1.0


def _change(loss: np.ndarray, window: int) -> np.ndarray:
    """loss[e] − loss[e + w] for e < len − w (NaN where either is NaN)."""
    return loss[:-window] - loss[window:] if loss.size > window else np.zeros(0)


def plateaus(
    loss, *, window: int = 50, flat_tol: float = 1e-2, min_length: int = 200, floor: float = 0.05
) -> list[tuple[int, int]]:
    """[(onset, offset)] of the loss plateaus (see module docstring)."""
    loss = np.asarray(loss, dtype=float)
    d = _change(loss, check_positive_int("window", window))
    s = _scale(loss)
    flat = (np.abs(d) <= check_positive("flat_tol", flat_tol) * s) & (loss[: d.size] > floor * s)
    runs = true_runs(flat)
    return [(a, b + window) for a, b in runs if b + window - a + 1 >= min_length]


def jumps(loss, *, window: int = 50, drop_tol: float = 0.2) -> np.ndarray:
    """Epochs of abrupt loss drops (see module docstring), ascending."""
    loss = np.asarray(loss, dtype=float)
    d = _change(loss, check_positive_int("window", window))
    steep = d >= check_positive("drop_tol", drop_tol) * _scale(loss)
    step = np.nan_to_num(loss[:-1] - loss[1:], nan=-np.inf)
    out = [a + int(np.argmax(step[a : b + window])) for a, b in true_runs(steep)]
    return np.asarray(sorted(set(out)), dtype=int)


def no_learning(
    loss, grad_norm, *, grad_tol: float = 1e-9, high: float = 0.5
) -> tuple[np.ndarray, int]:
    """(bool per epoch, ``trapped_from``): gradient below ``grad_tol`` at a loss above ``high·loss[0]``.

    ``trapped_from`` is −1 unless the condition holds from some epoch to the end.
    """
    loss = np.asarray(loss, dtype=float)
    grad_norm = np.asarray(grad_norm, dtype=float)
    if loss.shape != grad_norm.shape:
        raise ValueError(
            f"`grad_norm` (shape {grad_norm.shape}) must match `loss` (shape {loss.shape})"
        )
    check_positive("grad_tol", grad_tol)
    flags = (grad_norm < grad_tol) & (loss > check_positive("high", high) * loss[0])
    runs = true_runs(flags)
    trapped = runs[-1][0] if runs and runs[-1][1] == loss.size - 1 else -1
    return flags, trapped


@dataclasses.dataclass(frozen=True)
class Detection:
    """Events in one learning curve. ``status``: "diverged" (ends in NaN), "trapped"
    (ends in the no-learning zone), "learned" (final loss below ``high·loss[0]``)
    or "plateau" (none of these)."""

    plateaus: list[tuple[int, int]]
    jumps: np.ndarray
    no_learning: np.ndarray
    trapped_from: int
    status: str


def detect(
    loss,
    grad_norm,
    *,
    window: int = 50,
    flat_tol: float = 1e-2,
    min_length: int = 200,
    drop_tol: float = 0.2,
    grad_tol: float = 1e-9,
    high: float = 0.5,
) -> Detection:
    """All of `plateaus`, `jumps` and `no_learning` for one curve, with a summary status."""
    loss = np.asarray(loss, dtype=float)
    p = plateaus(loss, window=window, flat_tol=flat_tol, min_length=min_length)
    j = jumps(loss, window=window, drop_tol=drop_tol)
    flags, trapped = no_learning(loss, grad_norm, grad_tol=grad_tol, high=high)
    if np.isnan(loss[-1]):
        status = "diverged"
    elif trapped >= 0:
        status = "trapped"
    else:
        status = "learned" if loss[-1] < high * loss[0] else "plateau"
    return Detection(p, j, flags, trapped, status)
