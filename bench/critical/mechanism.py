"""Which mechanism makes the delay at the end of the drop: ghost or ramp (docs/theory.md §4).

    nice -n 10 python -m bench.critical.mechanism --family rank2 --delays 80 [--seeds 3]

For the networks of `predict_rank1` (same keys: ``fold_in(key(13), T)`` split into 8, the
first ``--seeds``), the gradient-flow path (`critical.path`, no lr) is traced from the
initialisation to L < 0.05 (at most ``--max-steps`` steps; ``path_status`` says whether
it got there), the end of the first drop, where a learning rate above η_c
traps a network. On the network there, with the task's trajectories from the start of the
input-free stretch to the threshold crossing (DA: the output's first upward crossing of ½,
`da_span`; other tasks: `runs.analysis.task_span`):

* **candidates**: structural speed minima (`dynamics.find_points` from 24 points of the
  trajectories, plus the converged points of the 2-D latent grid for rank two) of kind
  ``ghost``, each judged by `dynamics.bottleneck` with the thresholds of §4: a ghost of
  the task when it is on the path with contrast C ≥ 2 and share S ≥ 1/2, ``shallow`` (a
  ramp makes the delay) when traversed but failing either, ``off_path`` otherwise;
* **the span's own numbers**, without a finder: the §4 quantities with the span's
  slowest point in place of x_g, C_span = max/min of the speed ‖f(x_t)‖ on the span and
  S_span = share of its steps with speed ≤ 2 × the minimum. They describe how uniform the
  climb is (C_span < 2: the speed never varies by 2×, no narrowing is traversed); they
  are not the criterion, which needs a structural candidate.

Rank one and two are judged in their latent flow (κ = Nᵀr), full rank in the N-D rate
flow. Rank one is the check: at the end of the drop its latent speed falls monotonically
along the climb (docs/critical.md), so it must come out without a ghost.
Writes ``mechanism_<family>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from bench.critical.measure_sweep import task_for
from bench.critical.predict_rank1 import FAMILIES
from ghostmech.critical.path import gradient_flow_path
from ghostmech.critical.problem import make_problem
from ghostmech.dynamics import find_points, flow_2d, from_network
from ghostmech.dynamics.bottleneck import CONTRAST_MIN, REGION_FACTOR, SHARE_MIN
from ghostmech.networks import make_preset, run_batch
from ghostmech.runs.analysis import judge_candidates, task_span, task_trajectories


def da_span(net, task) -> tuple[np.ndarray, np.ndarray]:
    """DA: start 0, exit at the output's first upward crossing of ½ (the delay's switch),
    −1 if none. `task_span` takes the first change of decision, which for a trainable
    readout whose output starts above ½ and falls in the first steps is that transient."""
    _, z = eqx.filter_jit(run_batch)(net, task.all_trials().inputs)
    z = np.asarray(z, float)[:, :, 0]
    up = (z[1:] >= 0.5) & (z[:-1] < 0.5)
    return np.zeros(z.shape[1], int), np.where(up.any(0), np.argmax(up, 0) + 1, -1)


def span_bounds(f, traj: np.ndarray, starts, exits) -> list[dict]:
    """Per trial: C_span, S_span (module docstring), the span's length in steps and
    whether the trial crossed the threshold (else the span runs to the trial's end)."""
    speed = np.asarray(jax.vmap(jax.vmap(lambda x: jnp.linalg.norm(f(x))))(jnp.asarray(traj)))
    out = []
    for i, (a, e) in enumerate(zip(starts, exits, strict=True)):
        e = int(e) if e >= 0 else traj.shape[1] - 1
        v = speed[i, int(a) : e + 1]
        if v.size < 2:
            out.append(dict(contrast_span=math.nan, share_span=math.nan, steps=int(v.size)))
            continue
        lo = float(v.min())
        out.append(
            dict(
                contrast_span=float(v.max() / lo),
                share_span=float(np.mean(v <= REGION_FACTOR * lo)),
                steps=int(v.size),
                crossed=bool(exits[i] >= 0),
            )
        )
    return out


def verdict(kinds: list[str]) -> str:
    """``ghost`` if any candidate is a ghost of the task, else ``ramp`` if one is traversed
    (``shallow``), else ``off_path`` (candidates, none traversed) or ``no_candidate``."""
    for k, v in (("ghost", "ghost"), ("shallow", "ramp"), ("off_path", "off_path")):
        if k in kinds:
            return v
    return "no_candidate"


def analyse(net, task, latent: bool, key, max_steps: int = 8000) -> dict:
    """Path to the end of the drop, then candidates and span numbers (module docstring).
    Call inside ``jax.enable_x64(True)`` with ``net`` built outside it (float32, as
    `predict_rank1` and the sweeps build it: the same key draws other numbers in x64)."""
    prob = make_problem(net, task)
    path = gradient_flow_path(prob.loss, prob.theta0, max_steps=max_steps)
    net_b = prob.net(jnp.asarray(path.thetas[-1]))
    f = from_network(net_b, latent=latent)
    traj = task_trajectories(net_b, task, latent)
    starts, exits = da_span(net_b, task) if task.name == "da" else task_span(net_b, task)
    pool = traj.reshape(-1, traj.shape[-1])
    pool = pool[np.linspace(0, len(pool) - 1, 24).round().astype(int)]
    scale = float(np.sqrt(np.mean(pool**2))) or 1.0
    x0 = pool + 0.01 * scale * np.asarray(jax.random.normal(key, pool.shape))
    if latent and traj.shape[-1] == 2:
        lo, hi = traj.reshape(-1, 2).min(0), traj.reshape(-1, 2).max(0)
        pad = 0.25 * np.maximum(hi - lo, 0.5)
        fl = flow_2d(f, (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]),
                     n_grid=31)  # fmt: skip
        x0 = np.concatenate([x0, fl.points.xstar[fl.points.status == "converged"]])
    pts = find_points(f, x0[np.all(np.isfinite(x0), 1)])
    cands = [pts.xstar[r] for r in pts.where("ghost")]
    judged = judge_candidates(f, traj, (starts, exits), cands, float(net_b.alpha))
    kinds = [b.kind for _, b in judged]
    return dict(
        path_status=path.status,
        path_steps=int(len(path.loss)),
        final_loss=float(path.loss[-1]),
        n_points=int(len(pts.kind)),
        point_kinds=sorted(set(pts.kind.tolist())),
        n_candidates=len(cands),
        candidates=[
            {k: b.to_dict()[k] for k in ("kind", "contrast", "share", "eps", "measured_delay")}
            for _, b in judged
        ],
        verdict=verdict(kinds),
        span=span_bounds(f, traj, starts, exits),
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=("rank1", "rank2", "full", "full_dcd"), default="rank2")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--delays", type=int, nargs="+", default=[80])
    ap.add_argument("--max-steps", type=int, default=8000, help="gradient-flow path steps")
    ap.add_argument("--out", type=Path, default=Path("docs/results/critical"))
    a = ap.parse_args(argv)
    preset, over = FAMILIES[a.family]
    f = a.out / f"mechanism_{a.family}.json"
    res = json.loads(f.read_text()) if f.is_file() else {"family": a.family, "per_delay": {}}
    res |= {"thresholds": {"contrast_min": CONTRAST_MIN, "share_min": SHARE_MIN}}
    res["commands"] = [*res.get("commands", []), " ".join(sys.argv)]
    t0, wall0 = time.time(), res.get("wall_s", 0.0)
    for T in a.delays:
        keys = jax.random.split(jax.random.fold_in(jax.random.key(13), T), 8)[: a.seeds]
        rows = []
        for s, k in enumerate(keys):
            t1 = time.time()
            net = make_preset(preset, key=k, **over)  # float32, as predict_rank1
            with jax.enable_x64(True):
                r = analyse(net, task_for(a.family, T), a.family in ("rank1", "rank2"),
                            jax.random.key(s), a.max_steps)  # fmt: skip
            r["wall_s"] = time.time() - t1
            rows.append(r)
            print(T, s, r["verdict"], r["candidates"], r["span"], f"{r['wall_s']:.0f}s", flush=True)
        res["per_delay"][str(T)] = rows
        res["wall_s"] = wall0 + time.time() - t0
        f.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
