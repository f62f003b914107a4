"""Classification of speed minima (SPEC §1) from the Jacobian spectrum.

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
"""

from __future__ import annotations

import numpy as np

__all__ = ["FIXED_KINDS", "KINDS", "classify_fixed", "classify_slow", "classify"]

FIXED_KINDS = ("stable_node", "stable_focus", "saddle", "unstable", "marginal")
KINDS = (*FIXED_KINDS, "ghost", "slow", "q_saddle", "none")


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


def classify(
    is_fixed: np.ndarray,
    converged: np.ndarray,
    eigvals: np.ndarray,
    hess_eigvals: np.ndarray,
    eig_tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised over points: (kind [P] str, n_unstable [P] int)."""
    kinds, idx = [], []
    for i in range(len(is_fixed)):
        if not converged[i]:
            k, u = "none", -1
        elif is_fixed[i]:
            k, u = classify_fixed(eigvals[i], eig_tol)
        else:
            k, u = classify_slow(eigvals[i], hess_eigvals[i], eig_tol)
        kinds.append(k)
        idx.append(u)
    return np.array(kinds, dtype=object), np.array(idx, dtype=int)
