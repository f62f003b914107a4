"""Predictors of η_c on the same rank-one networks whose η_c `measure_rank1` measured.

    nice -n 10 python -m bench.critical.predict_rank1 [--seeds 4] [--delays 10 20 40 80]

Also rank two, full rank (DA) and full rank on DCD (``--family full_dcd``, the task of
`measure_sweep`). Same initial networks (key ``fold_in(key(13), T)``, split into 8, first ``--seeds``);
`ghostmech.critical.predict` from each network's initialisation (no training run).
Writes ``predict_<tag>.json``: per delay and seed every predictor's value, the quantities
and the curvature profile along the path, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jax

from bench.critical.measure_sweep import task_for
from ghostmech.critical.predict import predict
from ghostmech.networks import make_preset

FAMILIES = {
    "rank1": ("fig6a_rank1", {}),
    "rank2": ("fig6b", {"rank": 2}),
    "full": ("fig6a_full", {}),
    "full_dcd": ("fig7_dcd", {}),  # DCD 6 / T / T steps, as measure_sweep
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=sorted(FAMILIES), default="rank1")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--delays", type=int, nargs="+", default=[10, 20, 40, 80])
    ap.add_argument("--overshoot", action="store_true")
    ap.add_argument("--max-steps", type=int, default=4000, help="path steps (predict)")
    ap.add_argument("--tag", default=None, help="output name (default predict_<family>)")
    ap.add_argument("--out", type=Path, default=Path("docs/results/critical"))
    a = ap.parse_args(argv)
    preset, over = FAMILIES[a.family]
    res, t0 = {}, time.time()
    for T in a.delays:
        keys = jax.random.split(jax.random.fold_in(jax.random.key(13), T), 8)[: a.seeds]
        rows = []
        for s, k in enumerate(keys):
            net = make_preset(preset, key=k, **over)
            p = predict(net, task_for(a.family, T), key=jax.random.key(1), overshoot=a.overshoot,
                        max_steps=a.max_steps)  # fmt: skip
            rows.append(p.as_dict())
            print(
                T,
                s,
                p.status,
                {k: f"{v:.4g}" for k, v in p.values.items()},
                f"{p.wall_s:.1f}s",
                flush=True,
            )
        res[T] = rows
        out = {
            "family": a.family,
            "per_delay": res,
            "wall_s": time.time() - t0,
            "command": " ".join(sys.argv),
        }
        name = a.tag or f"predict_{a.family}"
        (a.out / f"{name}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
