"""Points through training: find at each checkpoint, match, and list the events.

At checkpoint t the finder starts from the given starts plus every converged
point of checkpoint t−1 (warm start). Points of consecutive checkpoints are
matched by mutual nearest neighbour within ``match_tol``·xscale, separately
for fixed points and for slow points (ghosts included). Unmatched points give
the events (``Event(epoch, kind, detail)``, JSON-serialisable):

* ``saddle_node_appear`` / ``saddle_node_disappear``: two fixed points appear
  / vanish together (the closest unmatched pair);
* ``ghost_to_fixed``: the new pair sits where a ghost was (the ghost became a
  stable/unstable pair); ``fixed_to_ghost``: a vanished pair left a ghost;
* ``ghost_birth`` / ``ghost_death``: a ghost appears / vanishes otherwise
  (a slow point turning into a ghost counts as a birth); detail has its ε;
* ``fixed_appear`` / ``fixed_disappear``: a single unmatched fixed point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ghostmech._checks import check_positive
from ghostmech.dynamics.finder import find_points
from ghostmech.dynamics.points import Points

__all__ = ["Event", "Tracking", "EVENT_KINDS", "track", "match", "detect_events"]

EVENT_KINDS = (
    "saddle_node_appear",
    "saddle_node_disappear",
    "ghost_to_fixed",
    "fixed_to_ghost",
    "ghost_birth",
    "ghost_death",
    "fixed_appear",
    "fixed_disappear",
)


@dataclass(frozen=True)
class Event:
    """One change of the flow's objects at ``epoch`` (``detail``: plain floats/lists)."""

    epoch: int
    kind: str
    detail: dict

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Tracking:
    """Epochs, the points at each, the events, and ``status`` ("ok" | "partial")."""

    epochs: list[int]
    points: list[Points]
    events: list[Event]
    status: str

    def ghost_epsilons(self) -> list[tuple[int, list[float]]]:
        """ε of every ghost at every checkpoint (watch it fall before a conversion)."""
        return [
            (e, p.eps[p.where("ghost")].tolist())
            for e, p in zip(self.epochs, self.points, strict=True)
        ]


def _rows(p: Points, category: str) -> np.ndarray:
    return p.where("fixed") if category == "fixed" else p.where("ghost", "slow")


def match(a: np.ndarray, b: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Mutual nearest neighbours between rows of ``a`` and ``b`` closer than ``tol``."""
    if len(a) == 0 or len(b) == 0:
        return []
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    ab, ba = np.argmin(d, axis=1), np.argmin(d, axis=0)
    return [(i, int(ab[i])) for i in range(len(a)) if ba[ab[i]] == i and d[i, ab[i]] <= tol]


def _unmatched(prev: Points, cur: Points, category: str, tol: float):
    ip, ic = _rows(prev, category), _rows(cur, category)
    pairs = match(prev.xstar[ip], cur.xstar[ic], tol)
    gone = [int(ip[i]) for i in range(len(ip)) if i not in {p for p, _ in pairs}]
    new = [int(ic[j]) for j in range(len(ic)) if j not in {c for _, c in pairs}]
    kept = [(int(ip[i]), int(ic[j])) for i, j in pairs]
    return gone, new, kept


def _pairs(p: Points, rows: list[int]) -> tuple[list[tuple[int, int]], list[int]]:
    rows, pairs = list(rows), []
    while len(rows) >= 2:
        x = p.xstar[rows]
        d = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.diag(np.full(len(rows), np.inf))
        i, j = np.unravel_index(np.argmin(d), d.shape)
        pairs.append((rows[i], rows[j]))
        rows = [r for k, r in enumerate(rows) if k not in (i, j)]
    return pairs, rows


def _near_ghost(p: Points, rows: list[int], x: np.ndarray, tol: float) -> int | None:
    g = [r for r in rows if p.kind[r] == "ghost"]
    if not g:
        return None
    d = np.linalg.norm(p.xstar[g] - x, axis=1)
    return g[int(np.argmin(d))] if d.min() <= tol else None


def _fixed_events(epoch, prev, cur, tol, ghost_gone, ghost_new):
    events = []
    gone, new, _ = _unmatched(prev, cur, "fixed", tol)
    for sign, pts, rows, ghosts, other in (
        (1, cur, new, ghost_gone, prev),
        (-1, prev, gone, ghost_new, cur),
    ):
        pairs, single = _pairs(pts, rows)
        for i, j in pairs:
            mid = 0.5 * (pts.xstar[i] + pts.xstar[j])
            kinds = [str(pts.kind[i]), str(pts.kind[j])]
            g = _near_ghost(other, ghosts, mid, tol)
            detail = {"x": mid.tolist(), "kinds": kinds}
            events.append(
                Event(epoch, "saddle_node_appear" if sign > 0 else "saddle_node_disappear", detail)
            )
            if g is not None:
                ghosts.remove(g)
                events.append(
                    Event(
                        epoch,
                        "ghost_to_fixed" if sign > 0 else "fixed_to_ghost",
                        {"x": mid.tolist(), "eps": float(other.eps[g])},
                    )
                )
        for i in single:
            events.append(
                Event(
                    epoch,
                    "fixed_appear" if sign > 0 else "fixed_disappear",
                    {"x": pts.xstar[i].tolist(), "kind": str(pts.kind[i])},
                )
            )
    return events


def detect_events(epoch: int, prev: Points, cur: Points, match_tol: float) -> list[Event]:
    """Events between two consecutive checkpoints (see the module docstring)."""
    tol = match_tol * max(prev.xscale, cur.xscale)
    gone, new, kept = _unmatched(prev, cur, "slow", tol)
    ghost_gone = [i for i in gone if prev.kind[i] == "ghost"]
    ghost_new = [j for j in new if cur.kind[j] == "ghost"]
    ghost_new += [j for i, j in kept if cur.kind[j] == "ghost" and prev.kind[i] != "ghost"]
    ghost_gone += [i for i, j in kept if prev.kind[i] == "ghost" and cur.kind[j] != "ghost"]
    events = _fixed_events(epoch, prev, cur, tol, ghost_gone, ghost_new)
    for j in ghost_new:
        events.append(
            Event(epoch, "ghost_birth", {"x": cur.xstar[j].tolist(), "eps": float(cur.eps[j])})
        )
    for i in ghost_gone:
        events.append(
            Event(epoch, "ghost_death", {"x": prev.xstar[i].tolist(), "eps": float(prev.eps[i])})
        )
    return events


def track(
    snapshots: Sequence[tuple[int, Callable]],
    starts,
    *,
    match_tol: float = 0.2,
    **finder_kw,
) -> Tracking:
    """Find points at every checkpoint (warm-started) and the events between them."""
    if len(snapshots) == 0:
        raise ValueError("`snapshots` (=[]) must hold at least one (epoch, field) pair")
    match_tol = check_positive("match_tol", match_tol)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    epochs, points, events = [], [], []
    for epoch, f in snapshots:
        warm = points[-1].xstar[points[-1].status == "converged"] if points else starts[:0]
        pts = find_points(f, np.concatenate([starts, warm]), **finder_kw)
        if points:
            events += detect_events(int(epoch), points[-1], pts, match_tol)
        epochs.append(int(epoch))
        points.append(pts)
    ok = all(np.any(p.status == "converged") for p in points)
    return Tracking(epochs, points, events, "ok" if ok else "partial")
