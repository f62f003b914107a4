"""The 1-D canonical ghost model dx/dt = ε + x², x(0) = 0 (docs/theory.md, paper Eqs. 12–23).

Closed forms (:func:`trajectory`, :func:`blowup_time`, :func:`threshold_time`,
:func:`dx_deps`), the delayed-activation loss landscape in the analytic limit
and at finite confidence β (:func:`loss`, :func:`loss_grad`), its special
points (:func:`optimum` ε*, :func:`point_of_no_return` ε₀), the critical
learning rate (:func:`critical_lr`, Eq. 23), gradient descent on ε
(:func:`descend`) and the empirical critical-lr finder (:func:`find_critical_lr`,
:func:`scaling_exponent`). Everything computes in float64 internally (under
``jax.enable_x64``); pass float64 inputs for full precision. See docs/theory.md.

>>> import jax.numpy as jnp
>>> from ghostmech import canonical as gc
>>> T = 100.0
>>> eps_star, eps_zero = gc.optimum(T), gc.point_of_no_return(T)
>>> round(eps_zero / eps_star, 6), f"{gc.critical_lr(T):.4e}"
(0.25, '9.1321e-10')
>>> [round(float(v), 6) for v in gc.loss(jnp.array([0.0, eps_star]), T, scale="per_T")]
[1.0, 0.0]
>>> run = gc.descend(10 * eps_star, 1e-10, 3000, T=T)  # plateau, then abrupt drop
>>> int(run.plateau_end), bool(run.trapped), int(run.status)
(1538, False, 0)
"""

from ghostmech.canonical.closed_form import blowup_time, dx_deps, threshold_time, trajectory
from ghostmech.canonical.descent import Descent, descend
from ghostmech.canonical.finder import CriticalLR, Scaling, find_critical_lr, scaling_exponent
from ghostmech.canonical.landscape import loss, loss_grad
from ghostmech.canonical.regimes import critical_lr, optimum, point_of_no_return

__all__ = [
    "CriticalLR",
    "Descent",
    "Scaling",
    "blowup_time",
    "critical_lr",
    "descend",
    "dx_deps",
    "find_critical_lr",
    "loss",
    "loss_grad",
    "optimum",
    "point_of_no_return",
    "scaling_exponent",
    "threshold_time",
    "trajectory",
]
