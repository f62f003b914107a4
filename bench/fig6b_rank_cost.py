"""Fig. 6B's cost per rank: network-epochs per CPU second of one 50-network block, and the
CPU time a partly finished ``ghostmech sweep fig6b --full`` run still needs.

    python -m bench.fig6b_rank_cost [RUN] [--ranks 10 30 50 100] [--epochs 2000]

Per rank K: `ghostmech.paper.fig6b.train_rank` (the figure's own training: preset
``fig6b``, DA at its delay) with 5 lrs × 10 seeds = 50 networks (the run's block width),
``--epochs`` (in chunks of ≤ 5,000, as the figure trains) to compile and warm up, then
``--epochs`` again timed
with ``time.process_time`` (one process, threads pinned by ``bench``). With RUN, the
network-epochs each rank still needs (`bench.sweep_progress.record`) divided by its rate
give the CPU time left, per rank and in all; blocks of a rank run in parallel on
different cores, so the wall time on c cores is about that over c. The lr grid and the
seeds do not change the cost (plain SGD, no early stop in the run), so this is the cost of
the run's own blocks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import jax
import numpy as np

from bench.common import machine
from bench.sweep_progress import record
from ghostmech.paper import fig6b


def rate(rank: int, epochs: int, size: fig6b.Sizes) -> float:
    """Network-epochs per CPU second of one 50-network block at ``rank``, after warm-up."""
    lrs = list(np.logspace(*size.lrs)[::2])  # 5 lrs × 10 seeds = 50 networks
    timed = dataclasses.replace(size, epochs=epochs)

    def once() -> float:
        t0 = time.process_time()
        jax.block_until_ready(fig6b.train_rank(rank, lrs, list(range(10)), timed))
        return time.process_time() - t0

    once()  # compile (and the first chunk)
    return 50 * epochs / once()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, nargs="?")
    ap.add_argument("--ranks", type=int, nargs="+", default=None)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    size = fig6b.sizes(False)
    ranks = a.ranks or list(size.ranks)
    out = {"machine": machine(), "epochs_timed": a.epochs, "rate": {}}
    for k in ranks:
        out["rate"][str(k)] = rate(k, a.epochs, size)
        print(f"rank {k}: {out['rate'][str(k)]:.3g} network-epochs per CPU s", flush=True)
    if a.run:
        parts = record(a.run)["parts"]
        left = {
            k: (v["total"] - v["done"]) / out["rate"][k]
            for k, v in parts.items()
            if v["done"] < v["total"] and k in out["rate"]
        }
        out["cpu_s_left"] = left | {"all": sum(left.values())}
        out["unmeasured_parts_left"] = [
            k for k, v in parts.items() if v["done"] < v["total"] and k not in out["rate"]
        ]
    print(json.dumps(out, indent=1))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
