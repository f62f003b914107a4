"""Speed-minimum (fixed/slow point) finders: ghostmech vs BrainPy vs a Golub-style finder.

Field f(r) = −r + tanh(W r + b), the same weights and starts for every finder:

* ``random``: W = g·N(0, 1)/√n (g = 1.5), b = 0.2·N(0, 1); starts = states of
  Euler trajectories from N(0, 1) plus noise 0.05 (the usual "sample the
  trajectories" recipe). Reports the number of distinct fixed points found.
* ``known``: block-diagonal W of 2-unit modules (units permuted at random): two
  modules with 9 fixed points, one with 3, the rest contractions (one fixed point
  each, ‖A‖₂ < 1). Every fixed point is a product of the modules' roots, found
  exhaustively in 2-D by Newton from a 61×61 grid (residual < 1e-13): 9·9·3 = 243.
  Starts uniform in [−1, 1]ⁿ. Reports recall = fraction of the 243 found.

Every finder's returned points are judged the same way here, in float64: a point
counts when q = ½‖f‖² ≤ ``q_tol`` (1e-9, Golub's default), points closer than
``dedup`` (1e-3) are merged, and a known point is recalled when a counted point lies
within ``match`` (1e-3) of it. Each peer runs in its own process (and venv), threads
pinned to 1 (ghostmech also with default threads); ``rounds`` rounds run the finders
one after another and the median is reported. JAX finders: ``first`` = compile +
run, ``run`` = the second call; the Golub finder (torch, eager) has no compile, so
its ``first`` = ``run``. The table gives both ratios to the base row: warm
(``run`` / base ``run``) and first call (``first`` / base ``first``).

Run: ``python -m bench.bench_finder --small`` (~5 min) or the full size
``python -m bench.bench_finder --rounds 3 --json out.json --md out.md``. Peer
virtualenvs: ``--golub-python``, ``--brainpy-python`` (default /work/venvs/...;
install commands in docs/benchmarks_finder.md). Missing peers are skipped.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import bench.common as common

PEERS = Path(__file__).with_name("finder_peers")
PINNED = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
Q_TOL, DEDUP, MATCH = 1e-9, 1e-3, 1e-3
LOOSE = (1e-6, 1e-2, 1e-2)  # the same for a loose tier (q ≤ 1e-6, merge / match at 1e-2)


# ----------------------------------------------------------------------------- workloads
def _roots_2d(A: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """All roots of −x + tanh(A x + β) in [−1, 1]² (they all lie there): Newton from a
    61×61 grid, vectorised over the grid, kept where the residual is < 1e-13."""
    g = np.linspace(-1.05, 1.05, 61)
    x = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    for _ in range(60):
        t = np.tanh(x @ A.T + beta)
        J = -np.eye(2) + (1 - t**2)[:, :, None] * A
        det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
        F = -x + t
        step = (
            np.stack(
                [
                    J[:, 1, 1] * F[:, 0] - J[:, 0, 1] * F[:, 1],
                    J[:, 0, 0] * F[:, 1] - J[:, 1, 0] * F[:, 0],
                ],
                -1,
            )
            / det[:, None]
        )
        x = np.clip(x - np.where(np.isfinite(step), step, 0.0), -2.0, 2.0)
    x = x[np.linalg.norm(-x + np.tanh(x @ A.T + beta), axis=1) < 1e-13]
    found: list[np.ndarray] = []
    for p in x:
        if not any(np.linalg.norm(p - y) < 1e-8 for y in found):
            found.append(p)
    return np.array(found)


def known_workload(n: int, n_starts: int, seed: int = 0) -> dict:
    """Block-diagonal network whose fixed points are all known (see module docstring)."""
    if n % 2 or n < 6:
        raise ValueError(f"`n` (={n}) must be even and ≥ 6 for the 2-unit modules")
    rng = np.random.default_rng(seed)
    rich9 = (np.array([[2.0, 0.4], [0.4, 2.0]]), np.array([0.1, -0.05]))
    rich3 = (np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([0.05, 0.0]))
    mono = np.array([[0.5, -0.3], [0.3, 0.5]])  # ‖A‖₂ < 1: r ↦ tanh(Ar+β) contracts
    mods = [rich9, rich9, rich3] + [(mono, rng.uniform(-0.5, 0.5, 2)) for _ in range(n // 2 - 3)]
    W, b = np.zeros((n, n)), np.zeros(n)
    roots = []
    for i, (A, beta) in enumerate(mods):
        W[2 * i : 2 * i + 2, 2 * i : 2 * i + 2], b[2 * i : 2 * i + 2] = A, beta
        roots.append(_roots_2d(A, beta))
    known = np.array([np.concatenate(c) for c in itertools.product(*roots)])
    perm = rng.permutation(n)
    W, b, known = W[np.ix_(perm, perm)], b[perm], known[:, perm]
    starts = rng.uniform(-1.0, 1.0, (n_starts, n))
    assert np.max(np.abs(-known + np.tanh(known @ W.T + b))) < 1e-12
    return {"W": W, "b": b, "starts": starts, "known": known}


def random_workload(n: int, n_starts: int, seed: int = 0, g: float = 1.5) -> dict:
    """Random tanh network; starts sampled along Euler trajectories plus noise."""
    rng = np.random.default_rng(seed)
    W = g * rng.standard_normal((n, n)) / np.sqrt(n)
    b = 0.2 * rng.standard_normal(n)
    n_traj = 32
    x = rng.standard_normal((n_traj, n))
    states = []
    for _ in range(-(-n_starts // n_traj)):
        for _ in range(5):  # dt = 0.2, record every 5 steps
            x = x + 0.2 * (-x + np.tanh(x @ W.T + b))
        states.append(x.copy())
    starts = np.concatenate(states)[:n_starts] + 0.05 * rng.standard_normal((n_starts, n))
    return {"W": W, "b": b, "starts": starts, "known": None}


# ----------------------------------------------------------------------------- scoring
def score(x: np.ndarray, W, b, known, q_tol=Q_TOL, dedup=DEDUP, match=MATCH) -> dict:
    """Counted (q ≤ q_tol), distinct (merged at dedup) and recalled points, in float64."""
    x = x[np.all(np.isfinite(x), axis=1)] if len(x) else x.reshape(0, len(b))
    fx = -x + np.tanh(x @ W.T + b)
    q = 0.5 * np.sum(fx**2, axis=1)
    good = x[q <= q_tol][np.argsort(q[q <= q_tol])]
    uniq: list[np.ndarray] = []
    for p in good:
        if not uniq or np.min(np.linalg.norm(np.array(uniq) - p, axis=1)) > dedup:
            uniq.append(p)
    qm = float(np.median(q)) if len(q) else float("nan")
    out = {"returned": len(x), "counted": len(good), "unique": len(uniq), "median_q": qm}
    if known is not None:
        U = np.array(uniq).reshape(-1, known.shape[1])
        d = np.linalg.norm(known[:, None, :] - U[None], axis=2) if len(U) else None
        hit = (d.min(axis=1) <= match) if d is not None else np.zeros(len(known), bool)
        spurious = int(np.sum(d.min(axis=0) > match)) if d is not None else 0
        out |= {"recall": float(hit.mean()), "found": int(hit.sum()), "spurious": spurious}
    return out


# ----------------------------------------------------------------------------- finders
def finders(args) -> dict[str, dict]:
    """name → python, script, pinned?, opts."""
    me = sys.executable
    gm = {"python": me, "script": "run_ghostmech.py"}
    out = {
        "ghostmech_pinned": gm | {"pinned": True, "opts": {}},
        "ghostmech_default": gm | {"pinned": False, "opts": {}},
        # persistent compilation cache in a fresh folder: round 0 cold, later rounds warm
        "ghostmech_cache": gm | {"pinned": True, "opts": {"cache_dir": args.cache_dir}},
        "golub_neuralrnn": {
            "python": args.golub_python,
            "script": "run_golub.py",
            "pinned": True,
            "opts": {"n_iters": args.golub_iters},
        },
        "brainpy": {
            "python": args.brainpy_python,
            "script": "run_brainpy.py",
            "pinned": True,
            "opts": {"num_opt": args.brainpy_opt, "q_tol": Q_TOL},
        },
    }
    keep = {k: v for k, v in out.items() if any(k.startswith(s) for s in args.only)}
    for k, v in keep.items():
        v["cap"] = next(
            (int(c.split("=")[1]) for c in args.cap if k.startswith(c.split("=")[0])), 0
        )
    return keep


def _env(pinned: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = str(common.ROOT / "src")
    return env | (PINNED if pinned else {})


def run_one(spec: dict, work: dict, tmp: Path, name: str) -> dict:
    starts = work["starts"]
    if spec["cap"]:
        starts = starts[: spec["cap"]]
    inp, out = tmp / f"{name}_in.npz", tmp / f"{name}_out.npz"
    np.savez(inp, W=work["W"], b=work["b"], starts=starts, opts=json.dumps(spec["opts"]))
    cmd = [spec["python"], str(PEERS / spec["script"]), str(inp), str(out)]
    env = _env(spec["pinned"]) | {"BENCH_T_SPAWN": repr(time.time())}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr[-2000:]}
    d = np.load(out)
    res = {k: float(d[k]) for k in ("t_import", "t_first", "t_run")}
    res |= {"n_starts": len(starts), "info": json.loads(str(d["info"]))}
    loose = score(d["x"], work["W"], work["b"], work["known"], *LOOSE)
    res |= {"loose": {k: v for k, v in loose.items() if k in ("unique", "recall", "found")}}
    return res | score(d["x"], work["W"], work["b"], work["known"])


def summarise(runs: list[dict], n_starts: int) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"]}
    med = {k: statistics.median(r[k] for r in ok) for k in ("t_import", "t_first", "t_run")}
    scale = n_starts / ok[0]["n_starts"]
    out = med | {
        "t_runs": [r["t_run"] for r in ok],
        "t_firsts": [r["t_first"] for r in ok],
        "t_runs_cpu": [r["info"].get("t_run_cpu") for r in ok],
        "t_firsts_cpu": [r["info"].get("t_first_cpu") for r in ok],
        "cache": [r["info"].get("cache") for r in ok],
        "compile": max(med["t_first"] - med["t_run"], 0.0),
        "n_starts": ok[0]["n_starts"],
        "t_run_per_full": med["t_run"] * scale,  # extrapolated when the starts were capped
        "info": ok[-1]["info"],
    }
    return out | {
        k: ok[-1][k]
        for k in (
            "returned",
            "counted",
            "unique",
            "recall",
            "found",
            "spurious",
            "median_q",
            "loose",
        )
        if k in ok[-1]
    }


def table(res: dict, base: str) -> str:
    rows = [
        "| finder | starts | run s (median) | first s | unique FPs | recall | "
        "loose: unique / recall | median q | run / base run | first / base first |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for wl, fr in res.items():
        rows.append(f"| **{wl}** | | | | | | | | | |")
        for name, r in fr.items():
            if "error" in r:
                rows.append(f"| {name} | error | | | | | | | | |")
                continue
            ref = fr.get(base, {}).get("t_run_per_full")
            ratio = f"{r['t_run_per_full'] / ref:.2f}×" if ref else ""
            ref1 = fr.get(base, {}).get("t_first")
            ratio1 = f"{r['t_first'] / ref1:.2f}×" if ref1 else ""
            capped = "" if r["n_starts"] == len_starts(res, wl, r) else " (capped)"
            rec = f"{r['recall']:.3f} ({r['found']})" if "recall" in r else ""
            lo = f"{r['loose']['unique']}" + (
                f" / {r['loose']['recall']:.3f}" if "recall" in r["loose"] else ""
            )
            rows.append(
                f"| {name} | {r['n_starts']}{capped} | {r['t_run']:.2f} "
                f"(full: {r['t_run_per_full']:.1f}) | {r['t_first']:.2f} | "
                f"{r['unique']} | {rec} | {lo} | {r['median_q']:.1e} | {ratio} | {ratio1} |"
            )
    return "\n".join(rows)


def _secs(v) -> str:
    return ", ".join(f"{x:.2f}" for x in v)


def _ratios(ref, v) -> str:
    return ", ".join(f"{a / b:.1f}×" for a, b in zip(ref, v, strict=False)) if ref else ""


def cpu_table(res: dict, peer: str = "golub_neuralrnn") -> str:
    """Process CPU seconds per round (every finder pinned to one thread) and the
    ratios to ``peer`` within the same round: warm (``run``) and first call."""
    rows = [
        "| workload | finder | run CPU s (rounds) | first call CPU s (rounds) | cache | "
        f"{peer} CPU ÷ run | {peer} CPU ÷ first call |",
        "|---|---|---|---|---|---|---|",
    ]
    for wl, fr in res.items():
        ref = fr.get(peer, {}).get("t_runs_cpu")
        for name, r in fr.items():
            if "error" in r or not r.get("t_runs_cpu"):
                continue
            rows.append(
                f"| {wl} | {name} | {_secs(r['t_runs_cpu'])} | {_secs(r['t_firsts_cpu'])} | "
                f"{', '.join(map(str, r['cache']))} | {_ratios(ref, r['t_runs_cpu'])} | "
                f"{_ratios(ref, r['t_firsts_cpu'])} |"
            )
    return "\n".join(rows)


def len_starts(res, wl, r):  # the largest start count used in this workload
    return max(x.get("n_starts", 0) for x in res[wl].values())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="n=64, 256 starts, 1 round")
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--starts", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workloads", nargs="+", default=["known", "random"])
    p.add_argument(
        "--only",
        nargs="+",
        default=["ghostmech_pinned", "ghostmech_default", "golub", "brainpy"],
    )
    p.add_argument(
        "--cap",
        nargs="*",
        default=[],
        help="NAME=K: run NAME on the first K starts only; time is scaled by S/K",
    )
    p.add_argument("--once", nargs="*", default=[], help="finders run in the first round only")
    p.add_argument("--base", default="ghostmech_pinned", help="row the ratios divide by")
    p.add_argument("--golub-python", default="/work/venvs/golub/bin/python")
    p.add_argument("--brainpy-python", default="/work/venvs/brainpy/bin/python")
    p.add_argument("--golub-iters", type=int, default=5000)
    p.add_argument("--brainpy-opt", type=int, default=10000)
    p.add_argument("--cache-dir", default=tempfile.mkdtemp(prefix="gm_jax_cache_"))
    p.add_argument("--json")
    p.add_argument("--md")
    args = p.parse_args(argv)
    if args.small:
        args.n, args.starts, args.rounds = 64, 256, 1
    specs = finders(args)
    for k in list(specs):
        if not Path(specs[k]["python"]).exists():
            print(f"skip {k}: {specs[k]['python']} not found", flush=True)
            del specs[k]
    res: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for wl in args.workloads:
            make = known_workload if wl == "known" else random_workload
            work = make(args.n, args.starts)
            runs: dict[str, list] = {k: [] for k in specs}
            for rnd in range(args.rounds):
                for name, spec in specs.items():
                    if rnd and any(name.startswith(o) for o in args.once):
                        continue
                    r = run_one(spec, work, Path(tmp), name)
                    runs[name].append(r)
                    brief = r.get("error", "")[-300:] or (
                        f"run {r['t_run']:.2f}s first {r['t_first']:.2f}s unique {r['unique']}"
                        + (f" recall {r['recall']:.3f}" if "recall" in r else "")
                    )
                    print(f"[{wl} round {rnd}] {name}: {brief}", flush=True)
            res[wl] = {k: summarise(v, args.starts) for k, v in runs.items()}
            if work["known"] is not None:
                res[wl]["_known_points"] = {"n_known": len(work["known"])}
    md = table(
        {w: {k: v for k, v in r.items() if not k.startswith("_")} for w, r in res.items()},
        args.base,
    )
    md += "\n\n" + cpu_table(
        {w: {k: v for k, v in r.items() if not k.startswith("_")} for w, r in res.items()}
    )
    print(md)
    out = {
        "machine": common.machine(),
        "args": vars(args),
        "q_tol": Q_TOL,
        "dedup": DEDUP,
        "match": MATCH,
        "results": res,
    }
    if args.md:
        Path(args.md).write_text(md + "\n")
    common.emit(out, args.json)


if __name__ == "__main__":
    main()
