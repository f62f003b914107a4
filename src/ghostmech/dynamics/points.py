"""The finder's result: one row per distinct point (or per non-converged start).

Field names follow fixed-point-finder (``xstar``, ``qstar``, ``J_xstar``,
``eigval_J_xstar``). ``status`` per row is ``converged`` / ``max_steps`` /
``diverged``; ``kind`` is one of :data:`ghostmech.dynamics.classify.KINDS`.
Ghost rows also carry ε, the null vectors u, v and the dwell time π/√ε (NaN
elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ghostmech.dynamics.classify import FIXED_KINDS, classify
from ghostmech.dynamics.ghost import GhostInfo, dwell_time

__all__ = ["Points", "STATUSES", "assemble", "dedup"]

STATUSES = ("converged", "max_steps", "diverged")


@dataclass(frozen=True, eq=False)
class Points:
    """Host-side arrays, P rows: xstar [P, n], qstar [P], J_xstar [P, n, n],
    eigval_J_xstar [P, n] (complex, sorted by decreasing real part), kind [P],
    status [P], n_unstable [P], n_merged [P] (starts that reached the point),
    eps, dwell [P], u, v [P, n]; xscale, fscale: the scales of the tolerances."""

    xstar: np.ndarray
    qstar: np.ndarray
    J_xstar: np.ndarray
    eigval_J_xstar: np.ndarray
    kind: np.ndarray
    status: np.ndarray
    n_unstable: np.ndarray
    n_merged: np.ndarray
    eps: np.ndarray
    dwell: np.ndarray
    u: np.ndarray
    v: np.ndarray
    xscale: float
    fscale: float

    def __len__(self) -> int:
        return len(self.qstar)

    def where(self, *kinds: str) -> np.ndarray:
        """Row indices whose kind is one of ``kinds`` (``"fixed"`` = any fixed kind)."""
        want = set(FIXED_KINDS) if "fixed" in kinds else set()
        want |= set(kinds)
        return np.flatnonzero([k in want for k in self.kind])

    def count(self, *kinds: str) -> int:
        return len(self.where(*kinds))

    def to_dict(self) -> dict:
        """JSON-serialisable summary (no Jacobians)."""
        return {
            "xstar": self.xstar.tolist(),
            "qstar": self.qstar.tolist(),
            "kind": list(self.kind),
            "status": list(self.status),
            "n_unstable": self.n_unstable.tolist(),
            "eps": self.eps.tolist(),
            "dwell": self.dwell.tolist(),
            "eigval_real": self.eigval_J_xstar.real.tolist(),
            "eigval_imag": self.eigval_J_xstar.imag.tolist(),
        }


def dedup(x: np.ndarray, q: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy merge (lowest q first) of points closer than ``tol``: (kept rows, merged counts)."""
    order = np.argsort(q, kind="stable")
    kept: list[int] = []
    counts: list[int] = []
    for i in order:
        if kept:
            d = np.linalg.norm(x[kept] - x[i], axis=1)
            j = int(np.argmin(d))
            if d[j] <= tol:
                counts[j] += 1
                continue
        kept.append(int(i))
        counts.append(1)
    return np.array(kept, dtype=int), np.array(counts, dtype=int)


def assemble(
    x: np.ndarray,
    q: np.ndarray,
    status: np.ndarray,
    J: np.ndarray,
    H: np.ndarray,
    g: GhostInfo,
    xscale: float,
    fscale: float,
    *,
    ftol: float,
    dedup_tol: float,
    eig_tol: float,
) -> Points:
    """De-duplicate converged points, add spectra, kinds and ghost data (per-start inputs)."""
    conv = np.flatnonzero(status == "converged")
    rest = np.flatnonzero(status != "converged")
    kept, counts = dedup(x[conv], q[conv], dedup_tol * xscale)
    rows = np.concatenate([conv[kept], rest]).astype(int)
    x, q, status, J, H = x[rows], q[rows], status[rows], J[rows], H[rows]
    merged = np.concatenate([counts, np.ones(len(rest), int)])
    n = x.shape[1]
    ok = status == "converged"
    ev = np.full((len(rows), n), np.nan + 0j)
    hev = np.full((len(rows), n), np.nan)
    if ok.any():
        e = np.linalg.eigvals(J[ok])
        ev[ok] = np.take_along_axis(e, np.argsort(-e.real, axis=1, kind="stable"), axis=1)
        hev[ok] = np.linalg.eigvalsh(H[ok])
    is_fixed = np.sqrt(2.0 * np.abs(q)) <= ftol * fscale
    kind, n_unstable = classify(is_fixed, ok, ev, hev, eig_tol)
    ghost = (kind == "ghost")[:, None]
    eps = np.where(ghost[:, 0], g.eps[rows], np.nan)
    u, v = np.where(ghost, g.u[rows], np.nan), np.where(ghost, g.v[rows], np.nan)
    return Points(
        x, q, J, ev, kind, status, n_unstable, merged, eps, dwell_time(eps), u, v, xscale, fscale
    )
