"""Classification of speed minima (docs/model.md §1) from the Jacobian spectrum.

A point x* with ‖f(x*)‖ ≤ ftol·fscale is a FIXED point; with eigenvalues λᵢ of
J(x*) and the threshold τ = eig_tol·max|λᵢ| (relative, so it scales with f):

* ``stable_node``  all Re λ < −τ and all |Im λ| ≤ τ
* ``stable_focus`` all Re λ < −τ, some complex pair
* ``saddle``       some Re λ > τ, the rest < −τ (``n_unstable`` = how many > τ)
* ``unstable``     all Re λ > τ
* ``marginal``     some |Re λ| ≤ τ (e.g. a line-attractor direction)

Otherwise a converged point is a local minimum of q (Hessian of q has no
eigenvalue below −hess_tol·max|eig|) with f ≠ 0:

* ``ghost``   a slow point whose N−1 eigenvalues other than the one nearest 0
              all have Re λ < −τ (transverse stability)
* ``slow``    any other slow point
* ``q_saddle`` a stationary point of q that is not a minimum

Points the finder did not converge on get ``none``.

**Maps** (``system="map"``: r_{t+1} = G(r_t), e.g. α = 1 or PyTorch's ``nn.RNN``;
docs/theory.md §4). The finder works on f = G − I, so the multipliers are
μ = 1 + λ. With τ = eig_tol·max|μ|, a fixed point is

* ``flip``         some |μ + 1| ≤ τ (period doubling)
* ``marginal``     some ||μ| − 1| ≤ τ otherwise
* ``stable_node``  all |μ| < 1 and real; ``stable_focus`` all |μ| < 1, a complex pair
* ``saddle``       some |μ| > 1, the rest < 1 (``n_unstable`` = how many |μ| > 1)
* ``unstable``     all |μ| > 1

and a slow point is a ``ghost`` when its multipliers other than the one nearest +1
all have |μ| < 1 − τ. h ↦ tanh(−1.5 h) has λ = −2.5 (a stable node of the flow
ẋ = G(x) − x) but μ = −1.5: an ``unstable`` fixed point of the map.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FIXED_KINDS",
    "KINDS",
    "SYSTEMS",
    "classify_fixed",
    "classify_slow",
    "classify_map_fixed",
    "classify_map_slow",
    "classify",
]

FIXED_KINDS = ("stable_node", "stable_focus", "saddle", "unstable", "marginal")
FIXED_KINDS = (*FIXED_KINDS, "flip")
KINDS = (*FIXED_KINDS, "ghost", "slow", "q_saddle", "none")
SYSTEMS = ("flow", "map")


def _tau(eigvals: np.ndarray, eig_tol: float) -> float:
    return eig_tol * max(float(np.max(np.abs(eigvals))), np.finfo(float).tiny)


def classify_fixed(eigvals: np.ndarray, eig_tol: float) -> tuple[str, int]:
    """Kind and unstable index of a fixed point from the eigenvalues of J."""
    tau = _tau(eigvals, eig_tol)
    re = eigvals.real
    n_unstable = int(np.sum(re > tau))
    if np.any(np.abs(re) <= tau):
        return "marginal", n_unstable
    if n_unstable == 0:
        return ("stable_focus" if np.any(np.abs(eigvals.imag) > tau) else "stable_node"), 0
    if n_unstable == len(re):
        return "unstable", n_unstable
    return "saddle", n_unstable


def classify_slow(eigvals: np.ndarray, hess_eigvals: np.ndarray, eig_tol: float) -> tuple[str, int]:
    """Kind of a non-fixed stationary point of q: ghost, slow or q_saddle."""
    h_tau = eig_tol * max(float(np.max(np.abs(hess_eigvals))), np.finfo(float).tiny)
    if np.min(hess_eigvals) < -h_tau:
        return "q_saddle", int(np.sum(eigvals.real > _tau(eigvals, eig_tol)))
    others = np.delete(eigvals, np.argmin(np.abs(eigvals)))
    tau = _tau(eigvals, eig_tol)
    n_unstable = int(np.sum(others.real > tau))
    if np.all(others.real < -tau):
        return "ghost", 0
    return "slow", n_unstable


def classify_map_fixed(mult: np.ndarray, eig_tol: float) -> tuple[str, int]:
    """Kind and unstable index of a fixed point of a map from its multipliers μ."""
    tau = _tau(mult, eig_tol)
    mod = np.abs(mult)
    n_unstable = int(np.sum(mod > 1 + tau))
    if np.any(np.abs(mult + 1) <= tau):
        return "flip", n_unstable
    if np.any(np.abs(mod - 1) <= tau):
        return "marginal", n_unstable
    if n_unstable == 0:
        return ("stable_focus" if np.any(np.abs(mult.imag) > tau) else "stable_node"), 0
    if n_unstable == len(mult):
        return "unstable", n_unstable
    return "saddle", n_unstable


def classify_map_slow(
    mult: np.ndarray, hess_eigvals: np.ndarray, eig_tol: float
) -> tuple[str, int]:
    """Kind of a non-fixed stationary point of q = ½‖G(x) − x‖² of a map."""
    h_tau = eig_tol * max(float(np.max(np.abs(hess_eigvals))), np.finfo(float).tiny)
    tau = _tau(mult, eig_tol)
    if np.min(hess_eigvals) < -h_tau:
        return "q_saddle", int(np.sum(np.abs(mult) > 1 + tau))
    others = np.delete(mult, np.argmin(np.abs(mult - 1)))
    n_unstable = int(np.sum(np.abs(others) > 1 + tau))
    if np.all(np.abs(others) < 1 - tau):
        return "ghost", 0
    return "slow", n_unstable


def classify(
    is_fixed: np.ndarray,
    converged: np.ndarray,
    eigvals: np.ndarray,
    hess_eigvals: np.ndarray,
    eig_tol: float,
    system: str = "flow",
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised over points: (kind [P] str, n_unstable [P] int). ``system="map"``
    classifies by the multipliers μ = 1 + λ (``eigvals`` are those of f = G − I)."""
    if system not in SYSTEMS:
        raise ValueError(f"`system` (={system!r}) must be one of {SYSTEMS}")
    fixed, slow = (
        (classify_fixed, classify_slow)
        if system == "flow"
        else (classify_map_fixed, classify_map_slow)
    )
    shift = 0.0 if system == "flow" else 1.0
    kinds, idx = [], []
    for i in range(len(is_fixed)):
        if not converged[i]:
            k, u = "none", -1
        elif is_fixed[i]:
            k, u = fixed(eigvals[i] + shift, eig_tol)
        else:
            k, u = slow(eigvals[i] + shift, hess_eigvals[i], eig_tol)
        kinds.append(k)
        idx.append(u)
    return np.array(kinds, dtype=object), np.array(idx, dtype=int)
