"""The finder's result: one row per distinct point (or per non-converged start).

Field names follow fixed-point-finder (``xstar``, ``qstar``, ``J_xstar``,
``eigval_J_xstar``). ``status`` per row is ``converged`` / ``max_steps`` /
``diverged``; ``kind`` is one of :data:`ghostmech.dynamics.classify.KINDS`.
Ghost rows also carry ε, the null vectors u, v and the dwell time π/√ε (NaN
elsewhere). ``system`` is ``"flow"`` (kinds from the eigenvalues λ of J) or
``"map"`` (kinds from the multipliers μ = 1 + λ, :func:`as_map`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ghostmech.dynamics.classify import (
    FIXED_KINDS,
    classify,
    classify_map_fixed,
    classify_map_slow,
)
from ghostmech.dynamics.ghost import GhostInfo, dwell_time

__all__ = ["Points", "STATUSES", "as_map", "assemble", "dedup", "representatives"]

STATUSES = ("converged", "max_steps", "diverged")


@dataclass(frozen=True, eq=False)
class Points:
    """Host-side arrays, P rows: xstar [P, n], qstar [P], J_xstar [P, n, n],
    eigval_J_xstar [P, n] (complex, sorted by decreasing real part), kind [P],
    status [P], n_unstable [P], n_merged [P] (starts that reached the point),
    eps, dwell [P], u, v [P, n]; xscale, fscale: the scales of the tolerances;
    row_of_start [S]: the row each start ended in (every start is accounted for);
    system: "flow" | "map"; multipliers [P, n] = 1 + eigval_J_xstar (the Euler step's)."""

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
    row_of_start: np.ndarray | None = None
    system: str = "flow"

    @property
    def multipliers(self) -> np.ndarray:
        """μ = 1 + λ: multipliers of the step map x ↦ x + f(x) (of G when f = G − I)."""
        return 1.0 + self.eigval_J_xstar

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
            "system": self.system,
            "max_abs_multiplier": np.max(np.abs(self.multipliers), axis=1).tolist(),
        }


def dedup(x: np.ndarray, q: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy merge (lowest q first) of points closer than ``tol``: (kept rows, merged counts)."""
    kept, owner = _merge(x, q, tol)
    return kept, np.bincount(owner, minlength=len(kept)).astype(int)


def _merge(x: np.ndarray, q: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy merge: kept rows and, per input row, the index (into kept) it merged into."""
    order = np.argsort(q, kind="stable")
    kept: list[int] = []
    owner = np.zeros(len(q), dtype=int)
    for i in order:
        if kept:
            d = np.linalg.norm(x[kept] - x[i], axis=1)
            j = int(np.argmin(d))
            if d[j] <= tol:
                owner[i] = j
                continue
        owner[i] = len(kept)
        kept.append(int(i))
    return np.array(kept, dtype=int), owner


def representatives(
    x: np.ndarray, q: np.ndarray, status: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows to report: one per distinct converged point (closer than ``tol`` merged),
    then every non-converged start. Returns (rows [P] start indices, n_merged [P],
    row_of_start [S]: the reported row each start belongs to)."""
    conv = np.flatnonzero(status == "converged")
    rest = np.flatnonzero(status != "converged")
    kept, owner = _merge(x[conv], q[conv], tol)
    rows = np.concatenate([conv[kept], rest]).astype(int)
    row_of_start = np.empty(len(q), dtype=int)
    row_of_start[conv] = owner
    row_of_start[rest] = len(kept) + np.arange(len(rest))
    return rows, np.bincount(row_of_start, minlength=len(rows)).astype(int), row_of_start


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
    merged: np.ndarray,
    row_of_start: np.ndarray,
    ftol: float,
    eig_tol: float,
) -> Points:
    """Spectra, kinds and ghost data of the reported rows (see :func:`representatives`).

    All inputs are per reported row; H and ``g`` need only be valid at converged
    rows that are not fixed points (NaN elsewhere is fine).
    """
    n = x.shape[1]
    ok = status == "converged"
    ev = np.full((len(q), n), np.nan + 0j)
    hev = np.full((len(q), n), np.nan)
    is_fixed = np.sqrt(2.0 * np.abs(q)) <= ftol * fscale
    if ok.any():
        e = np.linalg.eigvals(J[ok])
        ev[ok] = np.take_along_axis(e, np.argsort(-e.real, axis=1, kind="stable"), axis=1)
    slow = ok & ~is_fixed
    if slow.any():
        hev[slow] = np.linalg.eigvalsh(H[slow])
    kind, n_unstable = classify(is_fixed, ok, ev, hev, eig_tol)
    ghost = (kind == "ghost")[:, None]
    eps = np.where(ghost[:, 0], g.eps, np.nan)
    u, v = np.where(ghost, g.u, np.nan), np.where(ghost, g.v, np.nan)
    return Points(
        x,
        q,
        J,
        ev,
        kind,
        status,
        n_unstable,
        merged,
        eps,
        dwell_time(eps),
        u,
        v,
        xscale,
        fscale,
        row_of_start,
    )


def as_map(p: Points, eig_tol: float = 1e-7) -> Points:
    """The points of f = G − I read as points of the map G: kinds from μ = 1 + λ
    (:func:`~ghostmech.dynamics.classify.classify_map_fixed`, ``classify_map_slow``).

    ``none`` and ``q_saddle`` rows keep their kind (the Hessian test of q does not
    depend on the system). ε and u, v are kept only on rows still called ghosts.
    """
    if p.system == "map":
        return p
    kinds, n_unstable = [], []
    for i, k in enumerate(p.kind):
        if k in ("none", "q_saddle"):
            kinds.append(k)
            n_unstable.append(int(p.n_unstable[i]))
            continue
        mu = p.eigval_J_xstar[i] + 1.0
        if k in FIXED_KINDS:
            k2, u = classify_map_fixed(mu, eig_tol)
        else:
            k2, u = classify_map_slow(mu, np.ones(1), eig_tol)
        kinds.append(k2)
        n_unstable.append(u)
    kind = np.array(kinds, dtype=object)
    ghost = (kind == "ghost") & np.isfinite(p.eps)
    eps = np.where(ghost, p.eps, np.nan)
    return replace(
        p,
        kind=kind,
        n_unstable=np.array(n_unstable, dtype=int),
        eps=eps,
        dwell=dwell_time(eps),
        u=np.where(ghost[:, None], p.u, np.nan),
        v=np.where(ghost[:, None], p.v, np.nan),
        system="map",
    )
