"""Analyse one network of a run: its points and ghosts at every checkpoint, the events
between checkpoints, and how they line up with the learning curve.

For the grid point chosen, each checkpoint's network is turned into a vector field
with the inputs held at zero (docs/model.md §2, Eq. 39), in units of one Euler step
(``f = α(−x + tanh(...))``, so dwell times π/√ε are in steps, like the task delay):

* rank one  (``mode="rank1"``): the exact latent flow F(κ) is searched exhaustively
  by :func:`~ghostmech.dynamics.flow_1d` (ghost: F′ = 0, F·F″ > 0, ε = F·F″/2);
* rank two  (``"rank2"``): the 2-D latent flow on a grid (:func:`~ghostmech.dynamics.flow_2d`);
* otherwise (``"full"``): the N-D speed-minimum finder started from the states the
  network visits on the task's trials (noise-free, every trial type).

Points are then tracked across checkpoints (:func:`~ghostmech.dynamics.track`): its
events (saddle-node bifurcations, ghost births, ghost → fixed conversions ...) are
set next to the loss jumps, plateaus and no-learning zone found by
:func:`ghostmech.training.detect.detect`. Nothing here draws: see ``ghostmech analyze``.

Every structural ghost candidate (F′ = 0, F·F″ > 0; or one near-zero eigenvalue and a
stable rest) is then judged on the task's own noise-free trajectories
(:func:`~ghostmech.dynamics.bottleneck`, docs/theory.md §4): from the start of each
trial's last input-free stretch to its threshold crossing (the first step whose
decision, ``task.decide(z)``, differs from the first step's), the steps spent in the
bottleneck region B = {speed ≤ 2 × the minimum speed} against the quadratic model's
prediction. Only a candidate the trajectories pass as a bottleneck (contrast ≥ 2,
share ≥ 1/2) is a ``ghost``; the others are ``shallow`` (a ramp makes the delay) or
``off_path``. Networks with α = 1 are maps: their points are classified by
multipliers (:func:`~ghostmech.dynamics.as_map`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ghostmech._checks import check_positive_int
from ghostmech.dynamics import (
    Bottleneck,
    Tracking,
    as_map,
    bottleneck,
    flow_1d,
    flow_2d,
    from_network,
    latent_range,
    scalar_flow,
    track,
)
from ghostmech.networks import run_batch
from ghostmech.runs.factory import make_task
from ghostmech.runs.grid import rank_label
from ghostmech.runs.store import Run
from ghostmech.training.detect import Detection, detect, true_runs

__all__ = [
    "PointAnalysis",
    "analyze_point",
    "default_detect_kw",
    "grid_points",
    "judge_candidates",
    "task_span",
    "task_trajectories",
    "learning_events",
    "parse_point",
    "timeline_dict",
    "write_timeline",
]


@dataclass(frozen=True, eq=False)
class PointAnalysis:
    """Everything ``ghostmech analyze`` reports for one network of a run.

    ``flows``: [(epoch, Flow1D | Flow2D)] (empty for full rank); ``trajectories``:
    [(epoch, [trials, time, dim])] task trajectories (κ for rank ≤ 2, r otherwise);
    ``loss``, ``grad_norm``: [epochs]; ``status``: "ok" | "partial" | "diverged";
    ``passages``: per checkpoint, ``[(x_g, Bottleneck)]`` for every ghost candidate
    (empty lists when no trajectories were measured); ``system``: "flow" | "map";
    ``alpha``: Δt/τ (steps → τ).
    """

    point: dict[str, Any]
    mode: str
    delay: int
    tracking: Tracking
    flows: list[tuple[int, Any]]
    trajectories: list[tuple[int, np.ndarray]]
    loss: np.ndarray
    grad_norm: np.ndarray
    learning: Detection
    status: str
    passages: list[list[tuple[list[float], Bottleneck]]] = field(default_factory=list)
    system: str = "flow"
    alpha: float = 1.0

    def timeline(self) -> dict[str, Any]:
        """The JSON document of :func:`write_timeline`."""
        return timeline_dict(self)


def parse_point(text: str | None) -> dict[str, Any]:
    """``"lr=0.003,seed=0"`` → ``{"lr": 0.003, "seed": 0}`` (``rank=full`` kept as text)."""
    if text is None or not text.strip():
        return {}
    out: dict[str, Any] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"`--point` (={text!r}) must look like 'lr=0.003,seed=0'")
        v = value.strip()
        try:
            out[name.strip()] = int(v) if v.lstrip("-").isdigit() else float(v)
        except ValueError:
            out[name.strip()] = v
    return out


def grid_points(run: Run, point: dict[str, Any] | None = None, *, max_auto: int = 4) -> list[dict]:
    """The points to analyse: ``point`` (checked), else all when the grid has at most
    ``max_auto`` networks, else the first one."""
    grid = run.grid
    if point:
        point = dict(point)
        rank = point.pop("rank", None)
        run._part(rank)  # raises for an unknown rank
        g = grid.index(**point)
        chosen = {d: grid.points()[d][g] for d in grid.dims}
        return [_plain({**chosen, **({} if rank is None else {"rank": rank})})]
    pts = grid.points()
    ranks = [None] if grid.ranks is None else list(grid.ranks)
    every = [
        {**({} if r is None else {"rank": r}), **{d: pts[d][g] for d in grid.dims}}
        for r in ranks
        for g in range(grid.size)
    ]
    return [_plain(p) for p in (every if len(every) <= max_auto else every[:1])]


def _plain(point: dict) -> dict:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in point.items()}


def _curves(run: Run, point: dict) -> tuple[np.ndarray, np.ndarray]:
    ds = run.metrics
    sel = {}
    if run.grid.ranks is not None:
        labels = [rank_label(r) for r in run.grid.ranks]
        sel["rank"] = labels.index(rank_label(point["rank"]))
    flat = run.grid.index(**{d: point[d] for d in run.grid.dims})
    sel |= dict(zip(run.grid.dims, np.unravel_index(flat, run.grid.shape), strict=True))
    sel = {k: int(v) for k, v in sel.items()}
    return (np.asarray(ds.loss.isel(sel).values, float),
            np.asarray(ds.grad_norm.isel(sel).values, float))  # fmt: skip


def _finite(net) -> bool:
    leaves = jax.tree.leaves(eqx.filter(net, eqx.is_array))
    return all(bool(np.all(np.isfinite(np.asarray(x)))) for x in leaves)


def _mode(net) -> str:
    k = net.rank
    return "rank1" if k == 1 else ("rank2" if k == 2 else "full")


_run = eqx.filter_jit(run_batch)


def task_trajectories(net, task, latent: bool) -> np.ndarray:
    """Noise-free rates (or κ) on every trial type: [trials, time, dim]."""
    rates, _ = _run(net, task.all_trials().inputs)
    x = np.asarray(rates, float)
    if latent:
        x = x @ np.asarray(net.nT, float)
    return np.transpose(x, (1, 0, 2))


def task_span(net, task) -> tuple[np.ndarray, np.ndarray]:
    """Per trial: start of the last input-free stretch before the threshold crossing, and
    the crossing (first step whose decision differs from the first step's; −1: none)."""
    batch = task.all_trials()
    _, z = _run(net, batch.inputs)
    dec = np.asarray(task.decide(z), float)  # [time, trials, n_out]
    changed = np.any(dec != dec[:1], axis=-1)
    exits = np.where(changed.any(0), np.argmax(changed, axis=0), -1)
    driven = np.any(np.asarray(batch.inputs) != 0, axis=-1)  # [time, trials]
    starts = []
    for i, e in enumerate(exits):
        upto = driven[: (e if e >= 0 else driven.shape[0]), i]
        starts.append(int(np.flatnonzero(upto)[-1] + 1) if upto.any() else 0)
    return np.asarray(starts, int), exits.astype(int)


def judge_candidates(field, traj, spans, candidates, alpha) -> list[tuple[list[float], Bottleneck]]:
    out = []
    for x in candidates:
        try:
            bn = bottleneck(field, traj, x, starts=spans[0], exits=spans[1], dt=alpha)
        except ValueError:  # ε ≤ 0 at the candidate: not judged
            continue
        out.append((np.atleast_1d(x).tolist(), bn))
    return out


def _spread(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` rows of ``x`` [rows, dim], evenly spaced (all when fewer)."""
    if len(x) <= n:
        return x
    return x[np.linspace(0, len(x) - 1, n).round().astype(int)]


def analyze_point(
    run: Run,
    point: dict[str, Any],
    *,
    key: jax.Array,
    n_starts: int = 12,
    n_grid_1d: int = 1201,
    n_grid_2d: int = 31,
    detect_kw: dict | None = None,
) -> PointAnalysis:
    """Points, events and learning events of the network at ``point`` (see module doc).

    ``n_starts``: finder starts drawn from the task trajectories (all checkpoints
    together); ``key`` jitters them (s.d. 1 % of their scale) so none sits exactly on
    a trajectory's fixed initial state.
    """
    n_starts = check_positive_int("n_starts", n_starts)
    point = dict(point)
    rank = point.get("rank")
    grid_pt = {d: point[d] for d in run.grid.dims}
    epochs = run.checkpoint_epochs(rank)
    if not epochs:
        raise ValueError(f"run {str(run.path)!r} has no checkpoints; set [checkpoints] and rerun")
    nets = [(e, run.checkpoint(e, rank=rank, **grid_pt)) for e in epochs]
    nets = [(e, net) for e, net in nets if _finite(net)]  # diverged: weights NaN
    if not nets:
        raise ValueError(f"point {point} has no checkpoint with finite weights (it diverged)")
    task = make_task(run.config)
    mode = _mode(nets[0][1])
    latent = mode != "full"
    trajs = [(e, task_trajectories(net, task, latent)) for e, net in nets]
    fields = [(e, from_network(net, latent=latent)) for e, net in nets]
    per = max(n_starts // len(nets), 1)
    pool = np.concatenate([_spread(t.reshape(-1, t.shape[-1]), per) for _, t in trajs])
    scale = float(np.sqrt(np.mean(pool**2))) or 1.0
    starts = pool + 0.01 * scale * np.asarray(jax.random.normal(key, pool.shape))
    flows: list[tuple[int, Any]] = []
    if mode == "rank1":
        lo = min(latent_range(f)[0] for _, f in fields)
        flows = [(e, flow_1d(scalar_flow(f), lo, -lo, n_grid=n_grid_1d)) for e, f in fields]
        extra = [[p.kappa] for _, fl in flows for p in fl.points]
        starts = np.concatenate([starts, np.asarray(extra, float).reshape(-1, 1)])
    elif mode == "rank2":
        lim = _limits(np.concatenate([t.reshape(-1, 2) for _, t in trajs]))
        flows = [(e, flow_2d(f, lim[0], lim[1], n_grid=n_grid_2d)) for e, f in fields]
        extra = [fl.points.xstar[fl.points.status == "converged"] for _, fl in flows]
        starts = np.concatenate([starts, *extra])
    tracking = track(fields, _dedup(starts))
    alpha = float(nets[0][1].alpha)
    system = "map" if alpha == 1.0 else "flow"
    if system == "map":
        tracking = Tracking(tracking.epochs, [as_map(p) for p in tracking.points],
                            tracking.events, tracking.status)  # fmt: skip
    passages = []
    for i, ((_, net), (_, f), (_, traj)) in enumerate(zip(nets, fields, trajs, strict=True)):
        if mode == "rank1":
            cands = [[p.kappa] for p in flows[i][1].points if p.kind == "ghost"]
        else:
            pts = tracking.points[i]
            cands = [pts.xstar[r] for r in pts.where("ghost")]
        passages.append(judge_candidates(f, traj, task_span(net, task), cands, alpha))
    loss, grad = _curves(run, point)
    learning = detect(loss, grad, **(detect_kw or default_detect_kw(loss.size)))
    status = "diverged" if learning.status == "diverged" else tracking.status
    delay = int(getattr(task, "delay", 0))
    return PointAnalysis(point, mode, delay, tracking, flows, trajs, loss, grad, learning, status,
                         passages, system, alpha)  # fmt: skip


def default_detect_kw(n_epochs: int) -> dict[str, int]:
    """Windows that scale with the run: w = clip(n/100, 1, 50), min plateau = clip(n/10, 2w, 200)."""
    window = int(np.clip(n_epochs // 100, 1, 50))
    return {"window": window, "min_length": int(np.clip(n_epochs // 10, 2 * window, 200))}


def _limits(x: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    pad = 0.25 * np.maximum(hi - lo, 0.5)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )


def _dedup(x: np.ndarray) -> np.ndarray:
    x = x[np.all(np.isfinite(x), axis=1)]
    return np.unique(np.round(x, 10), axis=0)


def write_timeline(analysis: PointAnalysis, path: str | Path) -> Path:
    """Write ``analysis.timeline()`` as JSON (NaN written as null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_nan_to_none(analysis.timeline()), indent=1))
    return path


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def learning_events(learning: Detection) -> list[dict[str, Any]]:
    """Plateau onsets/offsets, loss jumps and no-learning zones as ``{epoch, kind, detail}``."""
    ev: list[dict[str, Any]] = []
    last = len(learning.no_learning) - 1  # a plateau reaching the last epoch has not ended
    for a, b in learning.plateaus:
        ev.append({"epoch": int(a), "kind": "plateau_onset", "detail": {"until": int(b)}})
        if b < last:
            ev.append({"epoch": int(b), "kind": "plateau_offset", "detail": {"since": int(a)}})
    ev += [{"epoch": int(j), "kind": "loss_jump", "detail": {}} for j in learning.jumps]
    for a, b in true_runs(np.asarray(learning.no_learning)):
        ev.append({"epoch": a, "kind": "no_learning", "detail": {"until": b}})
    if learning.trapped_from >= 0:
        ev.append({"epoch": int(learning.trapped_from), "kind": "trapped_from", "detail": {}})
    return sorted(ev, key=lambda e: e["epoch"])


def _candidates(a: PointAnalysis, i: int) -> list[dict[str, Any]]:
    """Ghost candidates at checkpoint i (exhaustive 1-D list for rank one, the finder's
    otherwise), each with its kind (ghost | shallow | off_path, or ``unmeasured`` when no
    trajectories were given) and the measured / predicted passage (docs/theory.md §4)."""
    if a.mode == "rank1":
        rows = [([p.kappa], p.eps) for p in a.flows[i][1].points if p.kind == "ghost"]
    else:
        p = a.tracking.points[i]
        rows = [(p.xstar[r].tolist(), float(p.eps[r])) for r in p.where("ghost")]
    measured = a.passages[i] if i < len(a.passages) else []
    out = []
    for x, eps in rows:
        bn = next((b for xb, b in measured if np.allclose(xb, x, atol=1e-9)), None)
        full = float(np.pi / np.sqrt(eps)) if eps > 0 else float("nan")
        d = {"x": x if len(x) <= 2 else None, "x_norm": float(np.linalg.norm(x)), "eps": eps,
             "passage_full": full,
             "passage_full_over_delay": full / a.delay if a.delay else float("nan"),
             "kind": "unmeasured" if bn is None else bn.kind}  # fmt: skip
        if bn is not None:
            d["passage"] = bn.to_dict()
        out.append(d)
    return out


def _map_kind_1d(dF: float, tol: float = 1e-7) -> str:
    """1-D map κ ↦ κ + F(κ): multiplier μ = 1 + F′ (F per step)."""
    mu = 1.0 + dF
    if abs(mu + 1) <= tol:
        return "flip"
    if abs(abs(mu) - 1) <= tol:
        return "marginal"
    return "stable" if abs(mu) < 1 else "unstable"


def _fixed(a: PointAnalysis, i: int) -> list[str]:
    if a.mode == "rank1":
        pts = [p for p in a.flows[i][1].points if p.kind != "ghost"]
        if a.system == "map":
            return [_map_kind_1d(p.dF) for p in pts]
        return [p.kind for p in pts]
    p = a.tracking.points[i]
    return [str(p.kind[r]) for r in p.where("fixed")]


def _checkpoint_rows(a: PointAnalysis) -> list[dict[str, Any]]:
    rows = []
    for i, e in enumerate(a.tracking.epochs):
        loss = float(a.loss[min(e, a.loss.size - 1)]) if a.loss.size else float("nan")
        fixed, cands = _fixed(a, i), _candidates(a, i)
        ghosts = [c for c in cands if c["kind"] == "ghost"]
        rows.append({"epoch": e, "loss": loss, "n_fixed": len(fixed), "fixed_kinds": fixed,
                     "n_ghost": len(ghosts), "ghosts": ghosts,
                     "n_candidates": len(cands), "candidates": cands})  # fmt: skip
    return rows


def _event_dict(ev, dim: int) -> dict[str, Any]:
    d = ev.to_dict()
    x = d["detail"].get("x")
    if x is not None and dim > 2:
        d["detail"] = {k: v for k, v in d["detail"].items() if k != "x"}
        d["detail"]["x_norm"] = float(np.linalg.norm(x))
    return d


def _alignment(epochs: list[int], dyn: list[dict], jumps) -> list[dict[str, Any]]:
    """For each loss jump at j: checkpoints a ≤ j < b and the dynamical events seen at b."""
    out = []
    for j in (int(x) for x in jumps):
        before = [c for c in epochs if c <= j]
        after = [c for c in epochs if c > j]
        a, b = (before[-1] if before else None), (after[0] if after else None)
        near = min(dyn, key=lambda e: abs(e["epoch"] - j), default=None)
        out.append({
            "jump_epoch": j,
            "checkpoints": [a, b],
            "events_at_next_checkpoint": [e["kind"] for e in dyn if e["epoch"] == b],
            "nearest_event": near,
            "nearest_distance": None if near is None else abs(near["epoch"] - j),
        })  # fmt: skip
    return out


def bottleneck_events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bottleneck_forms`` / ``bottleneck_lost``: the first checkpoint where some candidate
    is a ghost of the task after one where none was (and back), with its measured passage."""
    ev, prev = [], False
    for r in rows:
        now = r["n_ghost"] > 0
        if now != prev:
            g = r["ghosts"][0] if now else {}
            detail = {k: g["passage"][k] for k in _EVENT_KEYS} if now else {}
            ev.append({"epoch": r["epoch"],
                       "kind": "bottleneck_forms" if now else "bottleneck_lost",
                       "detail": detail})  # fmt: skip
        prev = now
    return ev


_EVENT_KEYS = ("eps", "curvature", "contrast", "share", "passage_full", "measured_delay",
               "measured_in_bottleneck", "predicted_in_bottleneck")  # fmt: skip


def timeline_dict(a: PointAnalysis) -> dict[str, Any]:
    """Checkpoint table, dynamical and learning events, their merge and the alignment."""
    dim = a.tracking.points[0].xstar.shape[1]
    rows = _checkpoint_rows(a)
    dyn = [_event_dict(e, dim) for e in a.tracking.events] + bottleneck_events(rows)
    dyn = sorted(dyn, key=lambda e: e["epoch"])
    learn = learning_events(a.learning)
    merged = sorted([{**e, "source": "dynamics"} for e in dyn]
                    + [{**e, "source": "learning"} for e in learn],
                    key=lambda e: (e["epoch"], e["source"]))  # fmt: skip
    return {
        "point": a.point,
        "mode": a.mode,
        "delay_steps": a.delay,
        "system": a.system,
        "alpha": a.alpha,
        "time_unit": "steps (eps of the per-step field alpha*(-x + tanh(.))); *_tau = steps*alpha",
        "ghost_rule": "ghost = a candidate the task trajectories pass as a bottleneck: contrast "
        ">= 2 and share of steps with speed <= 2 v_min >= 1/2 (docs/theory.md section 4)",
        "checkpoints": rows,
        "dynamics_events": dyn,
        "learning_events": learn,
        "learning_status": a.learning.status,
        "timeline": merged,
        "alignment": _alignment(a.tracking.epochs, dyn, a.learning.jumps),
        "status": a.status,
    }
