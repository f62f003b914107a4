"""Full-rank DCD (Fig. 5 sizes): ghostmech `fit` (jit + scan) vs a torch eager loop.

N = 100, 1000 trials per epoch (500 per cue), timing 10/50/50 ms at Δt = 5 ms
(2/10/10 steps), read before the update, tanh readout (Eq. 38), MSE, SGD lr
1e-2, no noise. Peers (threads pinned to 1): torch eager (trials batched,
Python loop over time, ``loss.backward()``, ``optimizer.step()``), the same loop
hand-written in JAX, and `ghostmech.training.fit` (σ = 0: no noise is drawn),
with its default ``dedupe_trials=True`` (the 1000 trials are 2 distinct ones:
each is run once, weighted by its multiplicity, same loss and gradient up to
rounding; `ghostmech.training.distinct_trials`) and with ``dedupe_trials=False``
(every trial run, the arithmetic of the peers). Also `fit` with the Fig. 5
noise σ = 0.01 (per-trial threefry normals every epoch: trials differ, no
compression possible; `bench.bench_noise` sets it against a torch peer that draws them) and `sweep` over a few
networks, backend "loop" vs "vmap" (σ = 0: compressed too).

Run: ``python -m bench.bench_dcd [--json out.json]`` (small defaults, ~1-2 min).
"""

from __future__ import annotations

import argparse
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import bench.common as common
from bench import torch_peers
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedCueDiscrimination
from ghostmech.training.fit import fit
from ghostmech.training.sweep import sweep

LR = 1e-2


def build(key, n=100):
    return make_preset("fig5_dcd", n=n, noise_std=0.0, key=key)


def torch_arrays(net) -> dict[str, np.ndarray]:
    names = {"w": net.w, "w_in": net.w_in, "b": net.b, "r0": net.r0}
    names |= {"w_out": net.readout.w_out, "b_out": net.readout.b_out}
    return {k: np.asarray(v) for k, v in names.items()}


def _dcd_loss(p, u, y, alpha=0.5):
    r0 = jnp.broadcast_to(p["r0"], (u.shape[1], p["r0"].shape[0]))

    def step(r, ut):
        z = jnp.tanh(r @ p["w_out"].T + p["b_out"])
        return (1 - alpha) * r + alpha * jnp.tanh(r @ p["w"].T + ut @ p["w_in"].T + p["b"]), z

    return ((lax.scan(step, r0, u)[1] - y) ** 2).mean()


@partial(jax.jit, static_argnums=3)
def handwritten_jax(p, u, y, epochs):
    """Same loop as the torch peer, in JAX: ``[batch, N]`` matmuls, jit + scan over epochs."""
    frozen = {"r0": p["r0"]}
    train = {k: v for k, v in p.items() if k != "r0"}

    def epoch(q, _):
        loss, g = jax.value_and_grad(lambda q: _dcd_loss(q | frozen, u, y))(q)
        return jax.tree.map(lambda a, b: a - LR * b, q, g), loss

    return lax.scan(epoch, train, None, length=epochs)[1]


def measure(args) -> dict:
    task = DelayedCueDiscrimination(input=2, delay=10, response=10)
    data = task.repeat_trials(args.trials // 2)
    net = build(jax.random.key(0), args.n)
    e, rows = args.epochs, {}

    def record(name, fn, nets, epochs, repeat=2):
        t = common.best_time(fn, repeat=repeat, warmup=1)
        rate = nets * epochs / t["best_s"]
        rows[name] = {"nets": nets, "epochs": epochs, **t, "net_epochs_per_s": rate}
        print(f"{name:22s} {rate:8.2f} network-epochs/s", flush=True)

    arrays = torch_arrays(net)
    u, y = np.asarray(data.inputs), np.asarray(data.targets)
    record("torch_eager", lambda: torch_peers.eager_dcd(arrays, u, y, lr=LR, epochs=e), 1, e)
    jp = {k: jnp.asarray(v) for k, v in arrays.items()}
    ju, jy = jnp.asarray(u), jnp.asarray(y)
    record("jax_handwritten", lambda: handwritten_jax(jp, ju, jy, e).block_until_ready(), 1, e)
    key = jax.random.key(1)
    for name, dedupe in (("ghostmech_fit", True), ("ghostmech_fit_no_dedupe", False)):
        record(
            name,
            lambda d=dedupe: (
                fit(
                    net, task, lr=LR, epochs=e, key=key, batch=data, chunk=e, dedupe_trials=d
                ).status
            ),
            1,
            e,
        )
    noisy = eqx.tree_at(lambda n: n.noise_std, net, jnp.asarray(0.01, jnp.float32))
    record(
        "ghostmech_fit_noise0.01",
        lambda: fit(noisy, task, lr=LR, epochs=e, key=key, batch=data, chunk=e).status,
        1,
        e,
    )
    k = args.nets
    for backend in ("loop", "vmap"):
        record(
            f"sweep_{backend}_{k}nets",
            lambda b=backend: (
                sweep(
                    build, task, lrs=[LR], seeds=range(k), epochs=e, batch=data, backend=b, chunk=e
                ).status
            ),
            k,
            e,
            repeat=1,
        )
    torch_loss = torch_peers.eager_dcd(arrays, u, y, lr=LR, epochs=e)
    res = fit(net, task, lr=LR, epochs=e, key=key, batch=data, chunk=e)
    full = fit(net, task, lr=LR, epochs=e, key=key, batch=data, chunk=e, dedupe_trials=False)
    agree = {
        "epochs": e,
        "torch_final_loss": torch_loss,
        "ghostmech_final_loss": float(res.metrics["loss"][-1]),
        "ghostmech_no_dedupe_final_loss": float(full.metrics["loss"][-1]),
        "dedupe_vs_full_max_rel_diff": {
            k: float(np.max(np.abs(res.metrics[k] - full.metrics[k]) / np.abs(full.metrics[k])))
            for k in ("loss", "grad_norm")
        },
        "jax_handwritten_final_loss": float(handwritten_jax(jp, ju, jy, e)[-1]),
    }
    return rows, agree


def noise_draw_ms(n_steps: int, trials: int, n: int) -> float:
    """ms per epoch to draw the per-trial noise ξ the generic path draws when σ ≠ 0."""
    draw = jax.jit(
        lambda k: jax.vmap(lambda kk: jax.random.normal(kk, (n_steps, n)))(
            jax.random.split(k, trials)
        ).sum()
    )
    key = jax.random.key(0)
    t = common.best_time(lambda: draw(key).block_until_ready(), repeat=5, warmup=1)
    return 1e3 * t["best_s"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--nets", type=int, default=4)
    p.add_argument("--json")
    args = p.parse_args(argv)
    rows, agree = measure(args)
    fitr = rows["ghostmech_fit"]["net_epochs_per_s"]
    torch_rate = rows["torch_eager"]["net_epochs_per_s"]
    rate = {k: v["net_epochs_per_s"] for k, v in rows.items()}
    ratios = {"ghostmech_fit / torch_eager": fitr / torch_rate}
    ratios["ghostmech_fit_no_dedupe / torch_eager"] = rate["ghostmech_fit_no_dedupe"] / torch_rate
    ratios["ghostmech_fit / ghostmech_fit_no_dedupe"] = fitr / rate["ghostmech_fit_no_dedupe"]
    ratios["ghostmech_fit / jax_handwritten"] = fitr / rate["jax_handwritten"]
    ratios["ghostmech_fit_noise0.01 / torch_eager"] = rate["ghostmech_fit_noise0.01"] / torch_rate
    ratios["jax_handwritten / torch_eager"] = rate["jax_handwritten"] / torch_rate
    k = args.nets
    ratios[f"sweep vmap / loop ({k} nets)"] = (
        rows[f"sweep_vmap_{k}nets"]["net_epochs_per_s"]
        / rows[f"sweep_loop_{k}nets"]["net_epochs_per_s"]
    )
    result = {
        "machine": common.machine(),
        "args": vars(args),
        "rows": rows,
        "ratios": ratios,
        "agreement": agree,
    }
    common.emit(result, args.json)


if __name__ == "__main__":
    main()
