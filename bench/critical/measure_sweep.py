"""Measure η_c of rank-K / full-rank RNNs (readout Eq. 48) on DA, or full rank on DCD.

    nice -n 10 python -m bench.critical.measure_sweep --family full --delays 10 20 40 80

Generic vmapped `training.sweep` (no kernel): 11 lrs 0.1 decade apart around a centre
(the first delay's guess, then extrapolated from the two previous delays), ``--seeds``
networks, epochs = max(``--min-epochs``, budget / lowest lr). Learned: final L < 0.1
(the Fig. 6A rule). Writes ``<family>_<task>.json`` / ``.npz`` under ``--out``;
``--merge`` adds the delays to the record already there (e.g. T = 80 on its own grid and
epochs) and refits the exponent over every delay measured.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import jax
import numpy as np

from bench.critical.record import read_record, write_record
from ghostmech.critical.measure import measure_sweep
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation, DelayedCueDiscrimination

FAMILIES = {  # preset, overrides, guess of η_c at the first delay
    "full": ("fig6a_full", {}, 1.0),
    "rank2": ("fig6b", {"rank": 2}, 0.15),
    "full_dcd": ("fig7_dcd", {}, 1.0),
}


def task_for(family: str, T: int):
    if family == "full_dcd":  # Fig. 7C settings: 30/80/50 ms → input 6 steps, delay T, response T
        return DelayedCueDiscrimination(6, T, T)
    return DelayedActivation(T, T)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=sorted(FAMILIES), default="full")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--delays", type=int, nargs="+", default=[10, 20, 40, 80])
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--min-epochs", type=int, default=2000)
    ap.add_argument("--max-epochs", type=int, default=40_000)
    ap.add_argument("--half", type=float, default=0.5)
    ap.add_argument("--n-lrs", type=int, default=11)
    ap.add_argument("--centre", type=float, default=None)
    ap.add_argument(
        "--fixed",
        type=float,
        nargs=2,
        default=None,
        help="one grid for every delay: log10 start, stop (--n-lrs points)",
    )
    ap.add_argument("--out", type=Path, default=Path("docs/results/critical"))
    ap.add_argument("--merge", action="store_true", help="add to the record in --out")
    ap.add_argument("--note", default=None, help="stored with each delay of this run")
    a = ap.parse_args(argv)
    preset, over, guess = FAMILIES[a.family]
    a.out.mkdir(parents=True, exist_ok=True)
    tag = a.family if a.family == "full_dcd" else f"{a.family}_da"
    res, raw, meta = read_record(a.out, tag, a.family) if a.merge else ({}, {}, None)
    t0 = time.time()
    for T in a.delays:
        ok = sorted(t for t in res if isinstance(t, int) and res[t]["status"] == "ok" and t < T)
        if len(ok) >= 2:
            t1, t2 = ok[-2:]
            p = math.log(res[t2]["eta_c"] / res[t1]["eta_c"]) / math.log(t2 / t1)
            centre = res[t2]["eta_c"] * (T / t2) ** p
        elif ok:
            centre = res[ok[-1]]["eta_c"] * (T / ok[-1]) ** -2.0
        else:
            centre = a.centre or guess
        lrs = np.logspace(math.log10(centre) - a.half, math.log10(centre) + a.half, a.n_lrs)
        if a.fixed:
            lrs = np.logspace(*a.fixed, a.n_lrs)
        epochs = int(min(a.max_epochs, max(a.min_epochs, a.budget / lrs[0])))
        seeds = [
            int(s)
            for s in jax.random.randint(
                jax.random.fold_in(jax.random.key(13), T), (a.seeds,), 0, 2**31 - 1
            )
        ]
        m = measure_sweep(
            lambda k: make_preset(preset, key=k, **over),
            task_for(a.family, T),
            lrs,
            seeds=seeds,
            epochs=epochs,
            chunk=1000,
        )
        res[T] = m.as_dict() | dict(epochs=epochs, centre=centre, n_seeds=a.seeds)
        if a.note:
            res[T]["note"] = a.note
        raw[f"outcome_T{T}"], raw[f"boot_T{T}"], raw[f"lrs_T{T}"] = m.outcome, m.boot, m.lrs
        raw[f"drop_T{T}"] = m.epochs
        print(
            T, m.status, m.eta_c, m.ci, m.trapped, m.decided, epochs, f"{m.wall_s:.0f}s", flush=True
        )
        write_record(a.out, tag, a.family, res, raw, t0, meta)


if __name__ == "__main__":
    main()
