"""Fig. 6A workload: rank-one networks on DA, lrs × seeds, SGD; four peers in one run.

Peers (threads pinned to 1, see `bench.common`):

1. ``torch_reference``  one network at a time, Python loop over time, backward, step;
2. ``torch_batched``    all networks in one torch graph, ``[nets, N]``;
3. ``ghostmech_sweep``  `ghostmech.training.sweep` (generic vmap over networks);
   ``naive_vmap_jax``   ``vmap(value_and_grad)`` of the full-state loss in ``lax.scan``;
4. ``fast_kernel``      `ghostmech.training.kernels.train_rank1_da_chunk`, one chunk of
   ``--kernel-epochs`` (``[N, nets]`` inside, groups of 32 networks);
   ``fast_kernel_nets_major`` the same maths laid out ``[nets, N]``.

Run: ``python -m bench.bench_fig6a [--json out.json]`` (small defaults, ~2 min).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import bench.common as common
from bench import torch_peers
from ghostmech.networks import make_preset
from ghostmech.tasks import DelayedActivation
from ghostmech.training.kernels import train_rank1_da_chunk
from ghostmech.training.sweep import sweep

HYPER = dict(beta=10.0, theta=1.0, alpha=0.5, r0=-0.3, delay=20, response=20)
FULL_EPOCHS = 200_001


def build(key, n=100):
    return make_preset("fig6a_rank1", n=n, key=key)


def grid(n_lrs=30, n_seeds=10, n=100):
    """Initial (m, n, b) ``[nets, N]`` exactly as `sweep` draws them, lr-major order."""
    lrs = np.logspace(-4, -1, n_lrs)
    nets = [build(jax.random.split(jax.random.key(s))[0], n) for s in range(n_seeds)]
    m = np.stack([np.asarray(net.m[:, 0]) for net in nets])
    nn = np.stack([np.asarray(net.nT[:, 0]) for net in nets])
    b = np.stack([np.asarray(net.b) for net in nets])
    tile = lambda a: np.tile(a, (n_lrs, 1)).astype(np.float32)  # noqa: E731
    return lrs, tile(m), tile(nn), tile(b), np.repeat(lrs, n_seeds).astype(np.float32)


def _full_state_loss(p, *, beta, theta, alpha, r0, delay, response):
    m, n, b = p
    y = jnp.concatenate([jnp.zeros(delay), jnp.ones(response)])

    def step(r, target):
        r = (1 - alpha) * r + alpha * jnp.tanh(m * (n @ r) + b)
        return r, (jax.nn.sigmoid(beta * (n @ r - theta)) - target) ** 2

    return lax.scan(step, jnp.full_like(m, r0), y)[1].sum() / delay


def naive_vmap(m, n, b, lr, epochs):
    vg = jax.vmap(jax.value_and_grad(lambda p: _full_state_loss(p, **HYPER)))

    def epoch(p, _):
        loss, g = vg(p)
        return tuple(x - lr[:, None] * gx for x, gx in zip(p, g, strict=True)), loss

    return lax.scan(epoch, (m, n, b), None, length=epochs)


def nets_major(m, n, b, lr, epochs):
    """Hand-derived kernel with arrays ``[nets, N]`` (reduction over the inner axis)."""
    a, beta, th, r0, d = (HYPER[k] for k in ("alpha", "beta", "theta", "r0", "delay"))
    y = jnp.concatenate([jnp.zeros(d), jnp.ones(HYPER["response"])])[:, None]

    def epoch(p, _):
        m, n, b = p
        fwd = lambda k, _: ((1 - a) * k + a * (n * jnp.tanh(m * k[:, None] + b)).sum(1), k)  # noqa: E731
        k_last, ks = lax.scan(fwd, r0 * n.sum(1), None, length=y.shape[0])
        z = jax.nn.sigmoid(beta * (jnp.concatenate([ks[1:], k_last[None]]) - th))
        direct = 2 * (z - y) * beta * z * (1 - z) / d
        at = jnp.concatenate([jnp.zeros_like(direct[:1]), direct[:-1]])

        def rev(c, x):
            lam, ah, as_, ak = c
            k, dd = x
            h = jnp.tanh(m * k[:, None] + b)
            s, g = 1 - h * h, (a * lam)[:, None]
            lam_t = dd + lam * ((1 - a) + a * (n * m * s).sum(1))
            return (lam_t, ah + g * h, as_ + g * s, ak + g * s * k[:, None]), None

        z0 = jnp.zeros_like(m)
        (l0, ah, as_, ak), _ = lax.scan(rev, (direct[-1], z0, z0, z0), (ks, at), reverse=True)
        grads = (n * ak, ah + l0[:, None] * r0, n * as_)
        return tuple(x - lr[:, None] * g for x, g in zip(p, grads, strict=True)), None

    return lax.scan(epoch, (m, n, b), None, length=epochs)[0]


def _block(x):
    return jax.block_until_ready(x)


def measure(args) -> dict:
    lrs, m, n, b, lr = grid(args.lrs, args.seeds, args.n)
    nets = lr.shape[0]
    task = DelayedActivation(HYPER["delay"], HYPER["response"])
    kw = {k: HYPER[k] for k in ("r0", "alpha", "beta", "theta", "delay", "response")}
    rows = {}

    def record(name, fn, n_nets, epochs, repeat):
        t = common.best_time(fn, repeat=repeat, warmup=1)
        rate = n_nets * epochs / t["best_s"]
        rows[name] = {"nets": n_nets, "epochs": epochs, **t, "net_epochs_per_s": rate}
        print(f"{name:26s} {common.fmt_rate(rate)} network-epochs/s", flush=True)

    k = args.ref_nets
    record(
        "torch_reference",
        lambda: torch_peers.reference_rank1_da(
            m[:k], n[:k], b[:k], lr[:k], epochs=args.ref_epochs, **kw
        ),
        k,
        args.ref_epochs,
        1,
    )
    record(
        "torch_batched",
        lambda: torch_peers.batched_rank1_da(m, n, b, lr, epochs=args.torch_epochs, **kw),
        nets,
        args.torch_epochs,
        2,
    )
    e = args.sweep_epochs
    record(
        "ghostmech_sweep",
        lambda: sweep(build, task, lrs=lrs, seeds=range(args.seeds), epochs=e, chunk=e).status,
        nets,
        e,
        2,
    )
    jm, jn, jb, jlr = (jnp.asarray(x) for x in (m, n, b, lr))
    f = jax.jit(naive_vmap, static_argnums=4)
    record("naive_vmap_jax", lambda: _block(f(jm, jn, jb, jlr, e)), nets, e, 2)
    e = args.kernel_epochs
    g = jax.jit(nets_major, static_argnums=4)
    record("fast_kernel_nets_major", lambda: _block(g(jm, jn, jb, jlr, e)), nets, e, 2)
    record(
        "fast_kernel",
        lambda: train_rank1_da_chunk(jm, jn, jb, jlr, epochs=e, **kw),
        nets,
        e,
        3,
    )
    return rows


def agreement(args) -> dict:
    """Loss at the last of a few epochs: kernel vs generic sweep vs batched torch (float32)."""
    lrs, m, n, b, lr = grid(args.lrs, args.seeds, args.n)
    e = 20
    kw = {k: HYPER[k] for k in ("r0", "alpha", "beta", "theta", "delay", "response")}
    _, met = train_rank1_da_chunk(m, n, b, lr, epochs=e, **kw)
    task = DelayedActivation(HYPER["delay"], HYPER["response"])
    res = sweep(build, task, lrs=lrs, seeds=range(args.seeds), epochs=e)
    generic = res.metrics["loss"][..., -1].reshape(-1)
    torch_loss = torch_peers.batched_rank1_da(m, n, b, lr, epochs=e, **kw)
    rel = lambda a, c: float(np.max(np.abs(a - c) / np.abs(c)))  # noqa: E731
    return {
        "epochs": e,
        "max_rel_diff_vs_sweep": rel(met["loss"][:, -1], generic),
        "max_rel_diff_vs_torch": rel(met["loss"][:, -1], torch_loss),
    }


def summarise(rows: dict) -> dict:
    fast = rows["fast_kernel"]["net_epochs_per_s"]
    ratios = {
        f"fast_kernel / {k}": fast / v["net_epochs_per_s"]
        for k, v in rows.items()
        if k != "fast_kernel"
    }
    full_s = 300 * FULL_EPOCHS / fast
    return {"ratios": ratios, "full_sweep_estimate_min": full_s / 60}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lrs", type=int, default=30)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--ref-nets", type=int, default=2)
    p.add_argument("--ref-epochs", type=int, default=20)
    p.add_argument("--torch-epochs", type=int, default=20)
    p.add_argument("--sweep-epochs", type=int, default=100)
    p.add_argument("--kernel-epochs", type=int, default=1000)
    p.add_argument("--json")
    args = p.parse_args(argv)
    rows = measure(args)
    result = {
        "machine": common.machine(),
        "args": vars(args),
        "rows": rows,
        **summarise(rows),
        "agreement": agreement(args),
    }
    common.emit(result, args.json)


if __name__ == "__main__":
    main()
