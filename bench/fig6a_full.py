"""The full Fig. 6A rank-one sweep with the fast kernel: 30 lrs × 10 seeds × 200,001 epochs.

Prints the wall time (compile included) and the fraction of networks that
learned (final loss < 0.1) per lr. Training goes through the engine:
``sweep(..., backend="kernel")`` (`ghostmech.training.engine.drive` with the
rank-one kernel, chunks of 5,000 epochs). ``--procs 2`` splits the networks
over two processes (one per core; each pinned to one thread); the default is
one. The kernel computes at one fixed width, so the split never changes any number.

Run on a quiet machine: ``python -m bench.fig6a_full [--procs 2] [--out fig6a.npz]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.bench_fig6a import HYPER, build
from ghostmech.tasks import DelayedActivation
from ghostmech.training.sweep import sweep

EPOCHS = 200_001


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--procs", type=int, default=1)
    p.add_argument("--out", help="save final losses and parameters (.npz)")
    args = p.parse_args(argv)
    lrs, seeds = np.logspace(-4, -1, 30), range(10)
    task = DelayedActivation(HYPER["delay"], HYPER["response"])
    t0 = time.perf_counter()
    res = sweep(
        build, task, lrs=lrs, seeds=seeds, epochs=args.epochs, backend="kernel", chunk=5000,
        processes=args.procs, record_every=max(1, args.epochs - 1),  # epochs 0 and the last
    )  # fmt: skip
    wall = time.perf_counter() - t0
    final = res.metrics["loss"][..., -1].reshape(-1)
    status = res.status.reshape(-1)
    lr = np.repeat(lrs, len(seeds))
    nets = lr.shape[0]
    print(f"Fig 6A full sweep: {nets} networks x {args.epochs} epochs, {args.procs} process(es)")
    print(
        f"wall time {wall:.1f} s = {wall / 60:.2f} min "
        f"({nets * args.epochs / wall:.3g} network-epochs/s)"
    )
    for v in lrs:
        sel = lr == v
        print(
            f"  lr {v:.3e}: learned {np.mean(final[sel] < 0.1):.1f}, "
            f"diverged {int(status[sel].sum())}"
        )
    if args.out:
        params = {k: np.asarray(getattr(res.params, a)).reshape(nets, -1)
                  for k, a in (("m", "m"), ("n", "nT"), ("b", "b"))}  # fmt: skip
        np.savez(args.out, lr=lr, final_loss=final, status=status, wall_s=wall, **params)


if __name__ == "__main__":
    main()
