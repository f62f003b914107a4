"""Noisy full-rank DCD (Figs. 5, 8C): ghostmech `fit` / `sweep` vs torch eager drawing the same noise.

Every trial differs (recurrent noise ξ_t ~ N(0, σ²) inside the tanh, Eq. 47), so
nothing can be computed once. Workloads (N = 100, DCD 10/50/50 ms at Δt = 5 ms:
2/10/10 steps, read before the update, tanh readout, MSE):

* ``fig5``:  1 trial per type (2 trials), SGD lr 1e-2, σ = 1e-2 (Fig. 5A-B);
* ``fig8c``: 10 trials per type (20 trials), Adam lr 0.1, σ = 1e-3 (Fig. 8C,
  free-confidence phase: tanh readout);
* ``big``:   500 trials per type (1000), SGD lr 1e-2, σ = 1e-2 (the size of
  bench_dcd; not a paper workload, for reference).

Peers, one thread each (``bench`` pins XLA, BLAS and torch):

* ``torch_eager``: trials batched, Python loop over time, ``torch.randn(batch, N)``
  every step (same σ, same trials), ``loss.backward()``, ``optimizer.step()``;
* ``ghostmech_fit``: `ghostmech.training.fit` as it is (batch-major noisy forward);
* ``ghostmech_fit_trialwise``: the same with the forward it had before (vmap of
  ``net(u, key=k)`` over trials): the layout lever, same draws.

Grid (``--grid G``: Fig. 8C's G seeds): ``ghostmech_sweep_vmap`` and ``_loop``,
``ghostmech_sweep_vmap_2proc`` (``processes=2``, one per core), ``torch_batched``
(the G networks in one graph, ``baddbmm``, ``torch.randn(G, batch, N)``) and
``torch_eager_loop`` (`torch_eager` on each network in turn).

Timing: ``rounds`` rounds, the peers of a round one after another; each peer's best
of ``repeat`` after a warm-up call (compile excluded). Process CPU time (all
threads; robust to other jobs on a loaded machine) and wall time; ratios within a
round, then their median and range over rounds. The 1-min load average is recorded
per round. ``--scaling``: time of the noisy `sweep` (vmap) against networks, N,
trials and epochs around the Fig. 8C point.

Run: ``python -m bench.bench_noise [--rounds 3] [--scaling] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import numpy as np

import bench.common as common
from bench import torch_peers
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedCueDiscrimination
from ghostmech.training import losses
from ghostmech.training.fit import fit
from ghostmech.training.sweep import sweep

WORKLOADS = {
    "fig5": dict(trials=2, optimizer="sgd", lr=1e-2, sigma=1e-2, epochs=200),
    "fig8c": dict(trials=20, optimizer="adam", lr=0.1, sigma=1e-3, epochs=100),
    "big": dict(trials=1000, optimizer="sgd", lr=1e-2, sigma=1e-2, epochs=3),
}
TASK = DelayedCueDiscrimination(input=2, delay=10, response=10)
FREE = {"readout": "linear", "readout_kwargs": {"activation": "tanh"}}


def build(key, n=100, sigma=1e-2):
    return make_preset("fig8c", key=key, n=n, noise_std=sigma, **FREE)


def torch_arrays(net) -> dict[str, np.ndarray]:
    names = {"w": net.w, "w_in": net.w_in, "b": net.b, "r0": net.r0}
    names |= {"w_out": net.readout.w_out, "b_out": net.readout.b_out}
    return {k: np.asarray(v) for k, v in names.items()}


_FORWARD = losses.forward


def _trialwise_forward(net, inputs, *, key):
    """The forward of before: ``net(u, key=k)`` vmapped over trials (same draws)."""
    if key is None:
        return _FORWARD(net, inputs, key=None)
    keys = jax.random.split(key, inputs.shape[1])
    return jax.vmap(lambda u, k: net(u, key=k), in_axes=(1, 0), out_axes=1)(inputs, keys)


def use_forward(trialwise: bool) -> None:
    """Swap `losses.forward` (and drop compiled programs, which captured the other one)."""
    losses.forward = _trialwise_forward if trialwise else _FORWARD
    jax.clear_caches()


def timed(fn, repeat: int) -> dict[str, float]:
    """Best CPU and wall seconds of ``fn()`` over ``repeat`` calls after one warm-up."""
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s": min(cpu), "wall_s": min(wall)}


def single(name: str, wl: dict, repeat: int) -> dict[str, dict]:
    """One network: torch eager vs `fit` (both layouts). Rates in network-epochs/s."""
    data = TASK.repeat_trials(wl["trials"] // 2)
    net = build(jax.random.key(0), sigma=wl["sigma"])
    arrays, e = torch_arrays(net), wl["epochs"]
    u, y = np.asarray(data.inputs), np.asarray(data.targets)
    kw = dict(lr=wl["lr"], epochs=e, sigma=wl["sigma"], optimizer=wl["optimizer"])
    key = jax.random.key(1)

    def gm():
        res = fit(net, TASK, optimizer=wl["optimizer"], lr=wl["lr"], epochs=e, key=key,
                  batch=data, chunk=e)  # fmt: skip
        return res

    rows = {"torch_eager": timed(lambda: torch_peers.eager_dcd(arrays, u, y, **kw), repeat)}
    use_forward(True)
    rows["ghostmech_fit_trialwise"] = timed(gm, repeat)
    old = gm().metrics["loss"]
    use_forward(False)
    rows["ghostmech_fit"] = timed(gm, repeat)
    new = gm().metrics["loss"]
    for r in rows.values():
        r["net_epochs_per_s_cpu"] = e / r["cpu_s"]
    rows["_agree"] = {"fit_vs_trialwise_max_rel_loss": float(np.max(np.abs(new - old) / old))}
    return rows


def grid(g: int, epochs: int, repeat: int, loop_epochs: int) -> dict[str, dict]:
    """Fig. 8C's free phase on ``g`` seeds: sweep (vmap, loop, 2 processes) vs torch."""
    wl = WORKLOADS["fig8c"]
    data = TASK.repeat_trials(wl["trials"] // 2)
    kw = dict(lrs=[wl["lr"]], seeds=range(g), epochs=epochs, optimizer="adam", batch=data)
    rows = {}
    for backend in ("vmap", "loop"):
        rows[f"ghostmech_sweep_{backend}"] = timed(
            lambda b=backend: sweep(_build8c, TASK, backend=b, chunk=epochs, **kw).status, repeat
        )
    t = timed(lambda: sweep(_build8c, TASK, chunk=epochs, processes=2, **kw).status, 1)
    rows["ghostmech_sweep_vmap_2proc"] = t | {"note": "wall only: CPU is in the children"}
    nets = [_build8c(jax.random.split(jax.random.key(s))[0]) for s in range(g)]
    arrays = [torch_arrays(n) for n in nets]
    stacked = {k: np.stack([a[k] for a in arrays]) for k in arrays[0]}
    u, y = np.asarray(data.inputs), np.asarray(data.targets)
    tk = dict(lr=wl["lr"], sigma=wl["sigma"], optimizer="adam")
    rows["torch_batched"] = timed(
        lambda: torch_peers.batched_dcd(stacked, u, y, epochs=epochs, **tk), repeat
    )
    rows["torch_eager_loop"] = timed(
        lambda: [torch_peers.eager_dcd(a, u, y, epochs=loop_epochs, **tk) for a in arrays], 1
    )
    for name, r in rows.items():
        e = loop_epochs if name == "torch_eager_loop" else epochs
        r["net_epochs_per_s_cpu"] = g * e / r["cpu_s"]
        r["net_epochs_per_s_wall"] = g * e / r["wall_s"]
    return rows


def _build8c(key):
    return build(key, sigma=WORKLOADS["fig8c"]["sigma"])


def scaling(repeat: int) -> dict:
    """Noisy sweep (vmap) time against networks, N, trials and epochs (Fig. 8C point)."""
    base = {"nets": 8, "n": 100, "trials": 20, "epochs": 100}
    axes = {"nets": [2, 4, 8, 16, 32], "n": [50, 100, 200], "trials": [2, 20, 200],
            "epochs": [50, 100, 200]}  # fmt: skip
    out = {}
    for axis, values in axes.items():
        cpu, wall = [], []
        for v in values:
            c = base | {axis: v}
            data = TASK.repeat_trials(c["trials"] // 2)

            def go(c=c, data=data):
                return sweep(
                    lambda k, n=c["n"]: build(k, n=n, sigma=1e-3), TASK, lrs=[0.1],
                    seeds=range(c["nets"]), epochs=c["epochs"], optimizer="adam", batch=data,
                    chunk=c["epochs"],
                ).status  # fmt: skip

            t = timed(go, repeat)
            cpu.append(t["cpu_s"])
            wall.append(t["wall_s"])
            print(
                f"scaling {axis}={v}: cpu {t['cpu_s']:.3f} s wall {t['wall_s']:.3f} s", flush=True
            )
        slope = float(np.polyfit(np.log(values), np.log(cpu), 1)[0])
        out[axis] = {"values": values, "cpu_s": cpu, "wall_s": wall, "loglog_slope_cpu": slope,
                     "load": os.getloadavg()[0]}  # fmt: skip
    return {"base": base, "axes": out}


def summary(rounds: list[dict], pairs: list[tuple[str, str, str]]) -> dict:
    """Median and range over rounds of the CPU-time ratio a/b (how much faster a is)."""
    out = {}
    for part, a, b in pairs:
        vals = [r[part][b]["cpu_s"] / r[part][a]["cpu_s"] for r in rounds if part in r]
        walls = [r[part][b]["wall_s"] / r[part][a]["wall_s"] for r in rounds if part in r]
        if not vals:
            continue
        out[f"{part}: {a} / {b}"] = {
            "cpu_median": statistics.median(vals), "cpu_min": min(vals), "cpu_max": max(vals),
            "wall_median": statistics.median(walls), "wall_min": min(walls),
            "wall_max": max(walls),
        }  # fmt: skip
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    p.add_argument("--grid", type=int, default=8, help="networks in the grid (0: skip)")
    p.add_argument("--grid-epochs", type=int, default=50)
    p.add_argument("--loop-epochs", type=int, default=10)
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--json")
    args = p.parse_args(argv)
    rounds = []
    for i in range(args.rounds):
        rec = {"load_start": os.getloadavg()[0]}
        for name in args.workloads:
            rec[name] = single(name, WORKLOADS[name], args.repeat)
            r = rec[name]
            print(f"round {i} {name}: torch/fit cpu "
                  f"{r['torch_eager']['cpu_s'] / r['ghostmech_fit']['cpu_s']:.2f}, "
                  f"trialwise/fit {r['ghostmech_fit_trialwise']['cpu_s'] / r['ghostmech_fit']['cpu_s']:.2f}, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        if args.grid:
            rec["grid"] = grid(args.grid, args.grid_epochs, args.repeat, args.loop_epochs)
            print(f"round {i} grid: " + ", ".join(
                f"{k} {v['net_epochs_per_s_cpu']:.0f}" for k, v in rec["grid"].items()),
                flush=True)  # fmt: skip
        rec["load_end"] = os.getloadavg()[0]
        rounds.append(rec)
    pairs = [(w, "ghostmech_fit", "torch_eager") for w in args.workloads]
    pairs += [(w, "ghostmech_fit", "ghostmech_fit_trialwise") for w in args.workloads]
    if args.grid:
        pairs += [("grid", f"ghostmech_sweep_{b}", t) for b in ("vmap", "loop")
                  for t in ("torch_batched",)]  # fmt: skip
    result = {
        "machine": common.machine(),
        "args": vars(args),
        "rounds": rounds,
        "ratios": summary(rounds, pairs),
    }
    if args.grid and rounds:
        gr = [r["grid"] for r in rounds]
        result["grid_vs_torch_loop_cpu"] = [
            g["ghostmech_sweep_vmap"]["net_epochs_per_s_cpu"]
            / g["torch_eager_loop"]["net_epochs_per_s_cpu"]
            for g in gr
        ]
    if args.scaling:
        result["scaling"] = scaling(args.repeat)
    common.emit(result, args.json)


if __name__ == "__main__":
    main()
