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
  which that holds to the end (docs/theory.md: gradient ≈ 0 at a high loss).

NaN epochs (after divergence) never belong to any of them.

Outcomes (defined here once; the figures pass their paper's thresholds by name):

* `Outcome` / `classify`: a network's final loss (and gradient norm) as
  LEARNED (L ≤ ``learned_below``·L₀), TRAPPED (L ≥ ``trapped_above``·L₀ and,
  if given, ‖∇L‖ < ``grad_below``: the no-learning zone), DIVERGED
  (non-finite) or PLATEAU (none of these yet). L₀ is the loss of the silent
  output z ≡ 0 (1 on DA with the Eq. 36 readout, where L = R/T when z ≡ 0);
* `escaped`: a curve that sat on the plateau (L ≥ ``trapped_above``·L₀ at some
  epoch) and ends learned;
* `critical_lr`: the critical learning rate from a fraction-vs-lr curve, by one
  of three named rules (`CRITICAL_RULES`), bracketed by two grid lrs;
* `trapped_from`: per curve of per-epoch flags (e.g. `classify` of every epoch
  == TRAPPED), the first epoch from which they hold to the end.

Every figure of `ghostmech.paper` reads its outcomes through these functions,
passing its paper's thresholds by name (Fig. 3B / 8B: L > 0.9 with ‖∇L‖ < 1e-6;
Fig. 6 / 9: L < 0.1 learned; Fig. 7: L ≥ 0.9·L₀ with ‖∇L‖ < 1e-3, learned
L ≤ 0.5·L₀; Fig. 8C: L ≥ 0.9·L₀, learned L ≤ 0.5·L₀), each written down with
its derivation in that figure's module. Comparisons are made in float64: for a
float32 loss, ``L > 0.9`` and ``L ≥ 0.9`` (and ``L < 0.1``, ``L ≤ 0.1``) agree,
since no float32 number equals the float64 0.9 or 0.1.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import NamedTuple

import numpy as np

from ghostmech._checks import check_positive, check_positive_int

__all__ = [
    "Detection",
    "detect",
    "plateaus",
    "jumps",
    "no_learning",
    "true_runs",
    "Outcome",
    "OUTCOMES",
    "LEARNED_BELOW",
    "TRAPPED_ABOVE",
    "classify",
    "escaped",
    "Critical",
    "CRITICAL_RULES",
    "critical_lr",
    "trapped_from",
]


class Outcome(enum.IntEnum):
    """How one network's training ended (the training layer's one enumeration of outcomes)."""

    LEARNED = 0
    PLATEAU = 1
    TRAPPED = 2
    DIVERGED = 3


#: the names, indexed by code (``OUTCOMES[Outcome.TRAPPED] == "trapped"``)
OUTCOMES = tuple(o.name.lower() for o in Outcome)
#: learned: final L ≤ 0.1·L₀ (Fig. 6: trained networks end near L = 0.02 on DA, silent ones at 1)
LEARNED_BELOW = 0.1
#: trapped: final L ≥ 0.9·L₀ (no better than the silent output; Fig. 3B, 6B)
TRAPPED_ABOVE = 0.9


def classify(
    final_loss,
    final_grad=None,
    *,
    l_zero: float = 1.0,
    learned_below: float = LEARNED_BELOW,
    trapped_above: float = TRAPPED_ABOVE,
    grad_below: float | None = None,
) -> np.ndarray:
    """`Outcome` codes (int8, the shape of ``final_loss``) of final losses (and gradient norms).

    LEARNED: L ≤ ``learned_below``·L₀; TRAPPED: L ≥ ``trapped_above``·L₀ and, with
    ``grad_below``, ‖∇L‖ < ``grad_below`` (``final_grad`` then required); DIVERGED:
    L non-finite; PLATEAU otherwise.
    """
    loss = np.asarray(final_loss, dtype=float)
    check_positive("l_zero", l_zero)
    if not 0 < learned_below < trapped_above:
        raise ValueError(
            f"`learned_below` (={learned_below}) and `trapped_above` (={trapped_above}) "
            "must satisfy 0 < learned_below < trapped_above"
        )
    high = loss >= trapped_above * l_zero
    if grad_below is not None:
        if final_grad is None:
            raise ValueError("`final_grad` is required with `grad_below`")
        high &= np.asarray(final_grad, dtype=float) < check_positive("grad_below", grad_below)
    out = np.full(loss.shape, Outcome.PLATEAU, np.int8)
    out[loss <= learned_below * l_zero] = Outcome.LEARNED
    out[high] = Outcome.TRAPPED
    out[~np.isfinite(loss)] = Outcome.DIVERGED
    return out


def escaped(
    loss,
    *,
    l_zero: float = 1.0,
    learned_below: float = LEARNED_BELOW,
    trapped_above: float = TRAPPED_ABOVE,
) -> np.ndarray:
    """Per curve (last axis = epochs): on the plateau (L ≥ ``trapped_above``·L₀) at some
    epoch and LEARNED at the end (L ≤ ``learned_below``·L₀)."""
    loss = np.asarray(loss, dtype=float)
    was_high = np.nanmax(np.where(np.isfinite(loss), loss, -np.inf), axis=-1)
    return (was_high >= trapped_above * l_zero) & (loss[..., -1] <= learned_below * l_zero)


class Critical(NamedTuple):
    """A critical lr bracketed by two grid lrs: ``lo < η_c ≤ hi``, ``value = √(lo·hi)``
    (NaN when not found, or ``lo`` NaN when it is the first lr of the grid)."""

    lo: float
    hi: float
    value: float

    @property
    def found(self) -> bool:
        return math.isfinite(self.hi)


#: ``"onset"``: the first lr at which ``fraction ≥ level`` (e.g. any network trapped:
#: Eq. 23's η_c is a sufficient bound, so the onset of trapping marks it);
#: ``"sustained"``: the first lr from which ``fraction ≥ level`` at every larger lr;
#: ``"falls_after_peak"``: the first lr above the peak of ``fraction`` (e.g. learned)
#: where it is below ``level`` (NaN if the peak is below ``level``).
CRITICAL_RULES = ("onset", "sustained", "falls_after_peak")


def critical_lr(lrs, fraction, *, level: float, rule: str) -> Critical:
    """The critical lr of a fraction-vs-lr curve (``lrs`` ascending) by ``rule`` (`CRITICAL_RULES`)."""
    lrs, frac = np.asarray(lrs, dtype=float), np.asarray(fraction, dtype=float)
    if lrs.shape != frac.shape or lrs.ndim != 1:
        raise ValueError(f"`fraction` (shape {frac.shape}) must match `lrs` (shape {lrs.shape})")
    if rule not in CRITICAL_RULES:
        raise ValueError(f"`rule` (={rule!r}) must be one of: {', '.join(CRITICAL_RULES)}")
    nan = Critical(math.nan, math.nan, math.nan)
    if rule == "onset":
        hits = np.flatnonzero(frac >= level)
        i = int(hits[0]) if hits.size else -1
    elif rule == "sustained":
        ok = frac >= level
        i = next((j for j in range(ok.size) if ok[j:].all()), -1)
    else:
        p = int(np.argmax(frac))
        after = np.flatnonzero(frac[p:] < level)
        i = p + int(after[0]) if frac[p] >= level and after.size else -1
    if i < 0:
        return nan
    hi = float(lrs[i])
    if i == 0:
        return Critical(math.nan, hi, math.nan)
    lo = float(lrs[i - 1])
    return Critical(lo, hi, math.sqrt(lo * hi))


def trapped_from(flags) -> np.ndarray:
    """Per curve (last axis = epochs) of bool ``flags``: the first epoch from which every
    flag is True to the end; −1 where the last flag is False (int array, leading shape).

    >>> trapped_from([[0, 1, 0, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]).tolist()
    [3, 0, -1]
    """
    flags = np.asarray(flags, dtype=bool)
    if flags.shape[-1:] in ((), (0,)):
        raise ValueError(f"`flags` (shape {flags.shape}) needs at least one epoch")
    trailing = np.argmin(flags[..., ::-1], axis=-1)  # Trues at the end (0 if all True)
    start = np.where(flags.all(axis=-1), 0, flags.shape[-1] - trailing)
    return np.where(flags[..., -1], start, -1).astype(int)


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
    return flags, int(trapped_from(flags)) if flags.size else -1


@dataclasses.dataclass(frozen=True)
class Detection:
    """Events in one learning curve. ``status``: an `OUTCOMES` name: "diverged" (ends in
    NaN), "trapped" (ends in the no-learning zone), "learned" (final loss below
    ``high·loss[0]``) or "plateau" (none of these)."""

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
        status = Outcome.DIVERGED
    elif trapped >= 0:
        status = Outcome.TRAPPED
    else:
        status = Outcome.LEARNED if loss[-1] < high * loss[0] else Outcome.PLATEAU
    return Detection(p, j, flags, trapped, OUTCOMES[status])
