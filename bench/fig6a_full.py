"""The full Fig. 6A rank-one sweep with the fast kernel: 30 lrs × 10 seeds × 200,001 epochs.

Prints the wall time (compile included) and the fraction of networks that
learned (final loss < 0.1) per lr. ``--procs 2`` splits the networks over two
processes (one per core; each pinned to one thread); the default is one.
Networks are independent, so the split never changes any number.

Run on a quiet machine: ``python -m bench.fig6a_full [--procs 2] [--out fig6a.npz]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EPOCHS = 200_001


def run_part(part: int, parts: int, epochs: int, out: str) -> None:
    import jax.numpy as jnp

    from bench.bench_fig6a import HYPER, grid
    from ghostmech.training.kernels import train_rank1_da_grid

    lrs, m, n, b, lr = grid()
    rows = np.array_split(np.arange(lr.shape[0]), parts)[part]
    kw = {k: HYPER[k] for k in ("r0", "alpha", "beta", "theta", "delay", "response")}
    t0 = time.perf_counter()
    params, met = train_rank1_da_grid(
        *(jnp.asarray(a[rows]) for a in (m, n, b, lr)), epochs=epochs, chunk=5000, **kw
    )
    seconds = time.perf_counter() - t0
    np.savez(
        out,
        rows=rows,
        seconds=seconds,
        final_loss=met["loss"][:, -1],
        status=met["status"],
        lr=lr[rows],
        **{k: np.asarray(v) for k, v in params.items()},
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--procs", type=int, default=1)
    p.add_argument("--out", help="save final losses and parameters (.npz)")
    p.add_argument("--part", type=int, help=argparse.SUPPRESS)
    p.add_argument("--part-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.part is not None:
        return run_part(args.part, args.procs, args.epochs, args.part_out)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outs = [str(Path(tmp) / f"part{i}.npz") for i in range(args.procs)]
        cmd = [
            sys.executable,
            "-m",
            "bench.fig6a_full",
            "--epochs",
            str(args.epochs),
            "--procs",
            str(args.procs),
        ]
        procs = [
            subprocess.Popen([*cmd, "--part", str(i), "--part-out", o]) for i, o in enumerate(outs)
        ]
        if any(pr.wait() for pr in procs):
            sys.exit("a part failed")
        parts = [dict(np.load(o)) for o in outs]
    wall = time.perf_counter() - t0
    res = {k: np.concatenate([pt[k] for pt in parts]) for k in ("lr", "final_loss", "status")}
    nets = res["lr"].shape[0]
    print(f"Fig 6A full sweep: {nets} networks x {args.epochs} epochs, {args.procs} process(es)")
    print(
        f"wall time {wall:.1f} s = {wall / 60:.2f} min "
        f"({nets * args.epochs / wall:.3g} network-epochs/s)"
    )
    for lr in np.unique(res["lr"]):
        sel = res["lr"] == lr
        print(
            f"  lr {lr:.3e}: learned {np.mean(res['final_loss'][sel] < 0.1):.1f}, "
            f"diverged {int(res['status'][sel].sum())}"
        )
    if args.out:
        np.savez(args.out, **res, wall_s=wall)


if __name__ == "__main__":
    main()
