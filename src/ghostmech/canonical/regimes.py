"""The three regimes of the analytic landscape and the critical learning rate.

In the analytic limit (β → ∞, x_θ → ∞) the output switches from 0 to 1
exactly at the blow-up time t* = π/(2√ε). With target 0 on [0, T) and 1 on
[T, T+R] there are two special scales:

* optimum ε* = π²/(4T²)             (t* = T, zero loss);
* point of no return ε₀ = π²/(4(T+R)²)  (t* = T+R; below it L ≡ R, ∂L/∂ε = 0).

Critical learning rate (Eq. 23, any R). Just above ε* the raw gradient is
π/(4ε*^{3/2}); one step of size η lands below ε₀ when η π/(4ε*^{3/2}) > ε* − ε₀:

    η_c = (ε* − ε₀) · 4 ε*^{3/2} / π          (raw loss)
    η_c = T · (ε* − ε₀) · 4 ε*^{3/2} / π      (loss divided by T, ``scale="per_T"``)

With R = T this is 3π⁴/(32 T⁵) (raw) and 3π⁴/(32 T⁴) (per_T).
"""

from __future__ import annotations

import math
from typing import Any

from ghostmech import _checks
from ghostmech.canonical._args import SCALES, window

__all__ = ["optimum", "point_of_no_return", "critical_lr"]


def optimum(T: Any, R: Any = None) -> float:
    """ε* = π²/(4T²): the ε whose blow-up time equals the delay T (R is accepted but unused).

    >>> round(optimum(100.0), 10)
    0.0002467401
    """
    T, _ = window(T, R)
    return math.pi**2 / (4 * T**2)


def point_of_no_return(T: Any, R: Any = None) -> float:
    """ε₀ = π²/(4(T+R)²), R defaulting to T (then ε₀ = ε*/4); below it L = R, ∂L/∂ε = 0."""
    T, R = window(T, R)
    return math.pi**2 / (4 * (T + R) ** 2)


def critical_lr(T: Any, R: Any = None, scale: str = "raw") -> float:
    """η_c = (ε* − ε₀)·4ε*^{3/2}/π for the raw loss, times T for ``scale="per_T"``.

    The smallest learning rate at which one gradient step from just above ε*
    can land below ε₀ (Eq. 23 for general R). Below η_c no step from ε ≥ ε*
    can cross ε₀ (a sufficient bound for never being trapped).

    >>> f"{critical_lr(100.0):.4e}", f"{critical_lr(100.0, scale='per_T'):.4e}"
    ('9.1321e-10', '9.1321e-08')
    """
    _checks.check_one_of("scale", scale, SCALES)
    T, R = window(T, R)
    e_star = optimum(T)
    e_zero = point_of_no_return(T, R)
    eta = (e_star - e_zero) * 4 * e_star**1.5 / math.pi
    return eta * T if scale == "per_T" else eta
