"""Scaling of the fast rank-one DA kernel: time vs networks, N, T and epochs.

One call of `ghostmech.training.kernels.train_rank1_da_chunk` (one chunk of all the
epochs; networks in groups of 32, the last padded).

One variable at a time around the Fig. 6A point (300 networks, N = 100, T = 20
(+20), 500 epochs). Reports seconds and the log-log slope of time against
each variable (1 = linear). Compile time is excluded (one warm-up call).

Run: ``python -m bench.bench_scaling [--json out.json]`` (~1 min).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import bench.common as common
from ghostmech.training.kernels import train_rank1_da_chunk

BASE = {"nets": 300, "n": 100, "T": 20, "epochs": 500}
AXES = {
    "nets": [75, 150, 300, 600],
    "n": [50, 100, 200],
    "T": [10, 20, 40],
    "epochs": [250, 500, 1000],
}


def run_once(nets: int, n: int, T: int, epochs: int) -> float:
    km, kn = jax.random.split(jax.random.key(0))
    m = jax.random.normal(km, (nets, n)) / np.sqrt(n)
    nn = jax.random.normal(kn, (nets, n)) / np.sqrt(n)
    lr = jnp.asarray(np.resize(np.logspace(-4, -1, 30), nets), jnp.float32)
    b = jnp.zeros((nets, n))

    def go():
        return train_rank1_da_chunk(m, nn, b, lr, epochs=epochs, delay=T, response=T)

    return common.best_time(go, repeat=2, warmup=1)["best_s"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json")
    args = p.parse_args(argv)
    out = {}
    for axis, values in AXES.items():
        times = []
        for v in values:
            cfg = BASE | {axis: v}
            t = run_once(**cfg)
            times.append(t)
            print(f"{axis}={v:5d}: {t:.3f} s", flush=True)
        slope = float(np.polyfit(np.log(values), np.log(times), 1)[0])
        out[axis] = {"values": values, "seconds": times, "loglog_slope": slope}
    common.emit({"machine": common.machine(), "base": BASE, "axes": out}, args.json)


if __name__ == "__main__":
    main()
