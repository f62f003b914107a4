"""Where ``find_points`` spends its time: process CPU per stage, per call (one thread).

Runs ``find_points`` on a `bench.bench_finder` workload (n = 128, 1024 starts)
``--calls`` times in this process (call 0 = compile + run, later calls warm) and
prints, per call, the CPU seconds of the whole call and of stage 1
(``newton_krylov``), stage 2 (``newton_grad``), stage 3 (``minimise_speed``, the
Hessian polish) and the point data (``_slow_data``), the points' kinds and the
bench's score. ``--save out.npz`` keeps the last call's points (xstar, qstar,
kind, eigenvalues, ε, n_merged) to compare two versions of the finder.

Run: ``python -m bench.finder_stages --workload random --calls 3``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import bench  # noqa: F401  (pins threads before jax loads)
import ghostmech.dynamics as gd
import ghostmech.dynamics.finder as fd
from bench.bench_finder import known_workload, random_workload, score

STAGES = ("newton_krylov", "newton_grad", "minimise_speed", "_slow_data")


def _timed(stats: dict, name: str):
    orig = getattr(fd, name)

    def wrapper(*args, **kwargs):
        c = time.process_time()
        out = orig(*args, **kwargs)
        stats.setdefault(name, []).append(round(time.process_time() - c, 3))
        return out

    setattr(fd, name, wrapper)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", choices=("random", "known"), default="random")
    p.add_argument("--calls", type=int, default=3)
    p.add_argument("--save")
    args = p.parse_args(argv)
    wl = (random_workload if args.workload == "random" else known_workload)(128, 1024)
    f = gd.rnn_field(wl["W"], wl["b"])
    stats: dict[str, list[float]] = {}
    for name in STAGES:
        _timed(stats, name)
    for call in range(args.calls):
        stats.clear()
        c = time.process_time()
        pts = gd.find_points(f, wl["starts"])
        cpu = time.process_time() - c
        kinds = {k: int(np.sum(pts.kind == k)) for k in sorted(set(pts.kind.tolist()))}
        sc = score(pts.xstar, wl["W"], wl["b"], wl["known"])
        print(
            f"{args.workload} call {call}: CPU {cpu:.2f} s, stages {stats}, kinds {kinds}, "
            f"unique FPs {sc['unique']}"
            + (f", recall {sc['recall']:.4f}" if "recall" in sc else "")
            + f", load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if args.save:
        np.savez(
            args.save,
            x=pts.xstar,
            q=pts.qstar,
            kind=np.array(pts.kind, dtype=str),
            ev=pts.eigval_J_xstar,
            eps=pts.eps,
            merged=pts.n_merged,
        )


if __name__ == "__main__":
    main()
