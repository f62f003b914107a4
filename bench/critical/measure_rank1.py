"""Measure η_c of rank-one RNNs on DA at T ∈ {10, 20, 40, 80} (issue 13, deliverable 1).

    nice -n 10 python -m bench.critical.measure_rank1 [--seeds 8] [--out docs/results/critical]

Grid per delay: 11 lrs, 0.06 decade apart, centred on a guess (the earlier fig9 run;
T = 80 is centred on the extrapolation of the measured T = 20, 40). Writes
``rank1_da.json`` (per delay: lrs, counts, Wilson intervals, η_c with 95 % interval,
wall time) and the outcomes ``rank1_da.npz``. ``--merge`` adds the delays to the record
already there (e.g. T = 80 on its own grid and budget) and refits the exponent over every
delay measured, as in `bench.critical.measure_sweep`.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import jax
import numpy as np

from bench.critical.record import read_record, write_record
from ghostmech.critical.measure import measure_rank1_da

GUESS = {10: 0.045, 20: 0.015, 40: 0.0042}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--delays", type=int, nargs="+", default=[10, 20, 40, 80])
    ap.add_argument("--budget", type=float, default=200.0)
    ap.add_argument("--tag", default="rank1_da")
    ap.add_argument("--half", type=float, default=0.35, help="half-width of the grid, decades")
    ap.add_argument("--n-lrs", type=int, default=11)
    ap.add_argument("--centre", type=float, default=None)
    ap.add_argument(
        "--chunk", type=int, default=None, help="epochs per chunk (2000 at T ≤ 20, else 5000)"
    )
    ap.add_argument("--out", type=Path, default=Path("docs/results/critical"))
    ap.add_argument("--merge", action="store_true", help="add to the record in --out")
    ap.add_argument("--note", default=None, help="stored with each delay of this run")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(13)
    res, raw, meta = read_record(a.out, a.tag, "rank1") if a.merge else ({}, {}, None)
    t0 = time.time()
    for T in a.delays:
        if a.centre:
            centre = a.centre
        elif T in GUESS:
            centre = GUESS[T]
        else:  # extrapolate from the two largest measured delays
            ts = sorted(t for t in res if isinstance(t, int) and res[t]["status"] == "ok")[-2:]
            p = math.log(res[ts[1]]["eta_c"] / res[ts[0]]["eta_c"]) / math.log(ts[1] / ts[0])
            centre = res[ts[1]]["eta_c"] * (T / ts[1]) ** p
        lrs = np.logspace(math.log10(centre) - a.half, math.log10(centre) + a.half, a.n_lrs)
        m = measure_rank1_da(
            lrs,
            key=jax.random.fold_in(key, T),
            delay=T,
            n_seeds=a.seeds,
            budget=a.budget,
            chunk=a.chunk or (2000 if T <= 20 else 5000),
            log=lambda s: print(s, flush=True),
        )
        res[T] = m.as_dict() | dict(epochs_budget=a.budget, centre=centre, n_seeds=a.seeds)
        if a.note:
            res[T]["note"] = a.note
        raw[f"outcome_T{T}"], raw[f"epochs_T{T}"], raw[f"boot_T{T}"] = m.outcome, m.epochs, m.boot
        raw[f"lrs_T{T}"] = m.lrs
        print(T, m.status, m.eta_c, m.ci, m.trapped, m.decided, f"{m.wall_s:.0f}s", flush=True)
        write_record(a.out, a.tag, "rank1", res, raw, t0, meta)


if __name__ == "__main__":
    main()
