"""Fast training kernel for grids of rank-one networks on the delayed-activation task.

The Fig. 6A sweep trains hundreds of rank-one networks (``W = m nᵀ``) on the DA
task for 2·10⁵ epochs. For that regime the forward pass is exactly a scalar
recursion in the latent variable κ = nᵀ r (docs/model.md §2):

    κ₀ = nᵀ r₀,    h_t = tanh(m κ_t + b),    κ_{t+1} = (1−α) κ_t + α nᵀ h_t,
    z_t = σ(β(κ_{t+1} − θ))          (Eq. 36, read after the t-th update)
    L = Σ_{t<D+R} (z_t − ŷ_t)² / D,   ŷ_t = 0 for t < D, 1 after.

The backward pass is derived by hand. With λ_t = dL/dκ_t and the direct term
d_t = ∂L/∂κ_t = 2(z_{t−1} − ŷ_{t−1}) β z_{t−1}(1 − z_{t−1}) / D (t ≥ 1):

    λ_t = d_t + λ_{t+1} [(1−α) + α Σ_i n_i m_i (1 − h_{t,i}²)],   λ_{D+R} = d_{D+R}
    ∂L/∂n = α Σ_t λ_{t+1} h_t + λ₀ r₀
    ∂L/∂b = α n ⊙ Σ_t λ_{t+1} (1 − h_t²)
    ∂L/∂m = α n ⊙ Σ_t λ_{t+1} (1 − h_t²) κ_t

The reverse sweep recomputes ``h_t`` from the stored κ_t instead of storing the
``[T, N, nets]`` activations (measured 4-5x faster on CPU: the recompute stays in
cache). Arrays are laid out ``[N, nets]`` inside, so the network axis is
contiguous and every reduction over neurons is a vector add across networks.
Epochs run inside a ``lax.scan``; the host sees the metrics once per chunk
(`train_rank1_da_chunk`: one chunk, networks in groups of the fixed `WIDTH`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float

from ghostmech._checks import check_finite, check_positive, check_positive_int
from ghostmech.networks import RateRNN, ThresholdReadout, leaf_paths, trainable_filter

__all__ = ["WIDTH", "applies", "rank1_da_value_and_grad", "train_rank1_da_chunk"]


def _targets(delay: int, response: int, dtype) -> Float[Array, "time 1"]:
    return jnp.concatenate([jnp.zeros(delay, dtype), jnp.ones(response, dtype)])[:, None]


def _value_and_grad_nk(m, n, b, r0, *, beta, theta, alpha, delay, response):
    """Loss [K] and grads of ``[N, K]`` parameters (K networks, innermost)."""
    k0 = (n * r0).sum(0)

    def forward(k, _):
        h = jnp.tanh(m * k + b)
        return (1 - alpha) * k + alpha * (n * h).sum(0), k

    k_last, ks = lax.scan(forward, k0, None, length=delay + response)
    after = jnp.concatenate([ks[1:], k_last[None]], 0)  # κ_1 .. κ_T
    z = jax.nn.sigmoid(beta * (after - theta))
    err = z - _targets(delay, response, m.dtype)
    loss = (err**2).sum(0) / delay
    direct = 2 * err * beta * z * (1 - z) / delay  # ∂L/∂κ_{t+1}
    direct_at = jnp.concatenate([jnp.zeros_like(direct[:1]), direct[:-1]], 0)  # ∂L/∂κ_t
    nm = n * m

    def reverse(carry, x):
        lam_next, acc_h, acc_s, acc_sk = carry
        k, d = x
        h = jnp.tanh(m * k + b)
        slope = 1 - h * h
        g = alpha * lam_next
        lam = d + lam_next * ((1 - alpha) + alpha * (nm * slope).sum(0))
        return (lam, acc_h + g * h, acc_s + g * slope, acc_sk + (g * k) * slope), None

    zero = jnp.zeros_like(m)
    init = (direct[-1], zero, zero, zero)
    (lam0, acc_h, acc_s, acc_sk), _ = lax.scan(reverse, init, (ks, direct_at), reverse=True)
    return loss, (n * acc_sk, acc_h + lam0 * r0, n * acc_s)


def rank1_da_value_and_grad(
    m: Float[Array, "nets n"],
    n: Float[Array, "nets n"],
    b: Float[Array, "nets n"],
    *,
    beta: float = 10.0,
    theta: float = 1.0,
    alpha: float = 0.5,
    r0: float | Float[Array, "..."] = -0.3,
    delay: int = 20,
    response: int = 20,
) -> tuple[Float[Array, " nets"], tuple[Float[Array, "nets n"], ...]]:
    """DA loss per network and its gradient ``(∂L/∂m, ∂L/∂n, ∂L/∂b)`` (module docstring)."""
    r0 = jnp.broadcast_to(jnp.asarray(r0, m.dtype), m.shape).T
    hyper = dict(beta=beta, theta=theta, alpha=alpha, delay=delay, response=response)
    loss, grads = _value_and_grad_nk(m.T, n.T, b.T, r0, **hyper)
    return loss, tuple(g.T for g in grads)


#: networks per compiled program: every call trains groups of exactly this many (the
#: last padded with copies of its last network), so a network's numbers never depend
#: on its neighbours or on how many networks share the call. A power of two: every
#: vectorised loop over the network axis then handles all lanes alike. (Measured
#: fastest per network-epoch among 8 ... 300 on the 2-core benchmark box: docs/benchmarks.md.)
WIDTH = 32


@partial(jax.jit, static_argnames=("n_epochs", "hyper"))
def _chunk(params, lr, r0, status, nan_epoch, epoch0, *, n_epochs, hyper):
    """``n_epochs`` SGD epochs on ``[N, WIDTH]`` params; stalled networks stay put."""
    hyper = dict(hyper)

    def epoch(carry, e):
        params, status, nan_epoch = carry
        loss, grads = _value_and_grad_nk(*params, r0, **hyper)
        gnorm = jnp.sqrt(sum((g**2).sum(0) for g in grads))
        new = tuple(p - lr * g for p, g in zip(params, grads, strict=True))
        finite = jnp.isfinite(loss) & jnp.isfinite(gnorm)
        for p in new:
            finite &= jnp.isfinite(p).all(0)
        ok = (status == 0) & finite
        params = tuple(jnp.where(ok, p1, p0) for p1, p0 in zip(new, params, strict=True))
        nan_epoch = jnp.where((status == 0) & ~finite, e, nan_epoch)
        nan = jnp.asarray(jnp.nan, loss.dtype)
        metrics = (jnp.where(status == 0, loss, nan), jnp.where(status == 0, gnorm, nan))
        return (params, jnp.where(ok, status, 1), nan_epoch), metrics

    epochs = jnp.asarray(epoch0, jnp.int32) + jnp.arange(n_epochs, dtype=jnp.int32)
    return lax.scan(epoch, (params, status, nan_epoch), epochs)


def train_rank1_da_chunk(
    m0: Float[Array, "nets n"],
    n0: Float[Array, "nets n"],
    b0: Float[Array, "nets n"],
    lr: Float[Array, " nets"],
    *,
    epochs: int,
    beta: float = 10.0,
    theta: float = 1.0,
    alpha: float = 0.5,
    r0: float | Float[Array, "..."] = -0.3,
    delay: int = 20,
    response: int = 20,
) -> tuple[dict[str, Array], dict[str, np.ndarray]]:
    """ONE chunk: train ``nets`` rank-one networks on DA with plain SGD, one lr each.

    Each epoch is one full-batch step ``θ ← θ − lr ∇L`` on ``m, n, b`` (β, θ,
    r₀ frozen) with L, z and the gradient as in the module docstring. A network
    whose loss, gradient or updated parameters are non-finite stops updating:
    ``status`` 1, ``nan_epoch`` that epoch (counted from the chunk's start),
    metrics NaN from the next epoch.

    One compiled program per chunk length (a `lax.scan` over the ``epochs``; the
    host sees the metrics once); a chunk's numbers do not depend on its length
    (two chunks of 5 epochs give the bits of one of 10). The networks run in
    groups of `WIDTH`, the last padded (results dropped): a network's bits do not
    depend on its neighbours, on its position or on ``nets``. There is no loop over
    chunks here: training for many chunks goes through
    `ghostmech.training.engine.drive` (e.g. ``sweep(..., backend="kernel")``), whose
    `KernelExecutor` calls this once per chunk.

    Returns ``(params, metrics)``: ``params`` maps ``"m", "n", "b"`` to
    ``[nets, N]`` arrays; ``metrics`` maps ``"loss"``, ``"grad_norm"`` to
    ``[nets, epochs]`` numpy arrays (value before the epoch's update) and
    ``"status"``, ``"nan_epoch"`` (−1 if none) to ``[nets]``.

    >>> import jax.numpy as jnp
    >>> p, met = train_rank1_da_chunk(jnp.full((2, 4), .1), jnp.full((2, 4), .1),
    ...     jnp.zeros((2, 4)), jnp.array([1e-2, jnp.nan]), epochs=3)
    >>> met["loss"].shape, met["status"].tolist()
    ((2, 3), [0, 1])
    """
    epochs = check_positive_int("epochs", epochs)
    check_positive("beta", beta)
    check_finite("theta", theta)
    check_positive("alpha", alpha)
    check_positive_int("delay", delay)
    check_positive_int("response", response)
    m0, n0, b0 = (jnp.asarray(a) for a in (m0, n0, b0))
    if m0.ndim != 2 or n0.shape != m0.shape or b0.shape != m0.shape:
        raise ValueError(
            f"`m0`, `n0`, `b0` (shapes {m0.shape}, {n0.shape}, {b0.shape}) must all be [nets, N]"
        )
    nets, dtype = m0.shape[0], m0.dtype
    lr = jnp.asarray(lr, dtype)
    if lr.shape != (nets,):
        raise ValueError(f"`lr` (shape {lr.shape}) must have shape [nets] = ({nets},)")
    r0 = jnp.broadcast_to(jnp.asarray(r0, dtype), m0.shape)
    hyper = dict(beta=float(beta), theta=float(theta), alpha=float(alpha))
    hyper = tuple((hyper | dict(delay=delay, response=response)).items())
    status = jnp.zeros(WIDTH, jnp.int32)
    nan_epoch = jnp.full(WIDTH, -1, jnp.int32)
    pad = np.concatenate([np.arange(nets), np.full(-nets % WIDTH, nets - 1)])
    outs = []
    for s in range(0, pad.size, WIDTH):
        i = pad[s : s + WIDTH]
        (params, st, ne), (lo, gn) = _chunk(
            (m0[i].T, n0[i].T, b0[i].T), lr[i], r0[i].T, status, nan_epoch, 0,
            n_epochs=epochs, hyper=hyper,
        )  # fmt: skip
        outs.append((params, st, ne, lo, gn))
    join = lambda j, f: np.concatenate([f(o[j]) for o in outs])[:nets]  # noqa: E731
    final = {k: jnp.asarray(join(0, lambda p, a=a: np.asarray(p[a]).T))
             for a, k in enumerate(("m", "n", "b"))}  # fmt: skip
    metrics = dict(
        loss=join(3, lambda x: np.asarray(x).T),
        grad_norm=join(4, lambda x: np.asarray(x).T),
        status=join(1, np.asarray),
        nan_epoch=join(2, np.asarray),
    )
    return final, metrics


def applies(net: Any, task: Any, *, optimizer: str = "sgd", interventions: Any = ()) -> bool:
    """Whether :func:`train_rank1_da_chunk` computes exactly what generic training would.

    True for: SGD, no interventions; a DA task with zero input; a rank-one
    `RateRNN` with the Eq. 36 readout read after each update, no noise, whose
    trainable leaves are ``m``, ``nT``, ``b`` (and possibly ``w_in``, whose
    gradient is zero without input). The kernel's ``beta``, ``theta``, ``alpha``,
    ``r0``, ``delay``, ``response`` are then read off ``net`` and ``task``.
    """
    if optimizer != "sgd" or interventions or getattr(task, "loss_kind", None) != "da":
        return False
    if not isinstance(net, RateRNN) or net.rank != 1 or net.read != "after":
        return False
    if not isinstance(net.readout, ThresholdReadout) or float(net.noise_std) != 0.0:
        return False
    if np.any(np.asarray(task.all_trials().inputs)):
        return False
    flags = jax.tree.leaves(trainable_filter(net))
    trained = {p for p, f in zip(leaf_paths(net), flags, strict=True) if f}
    return {"m", "nT", "b"} <= trained <= {"m", "nT", "b", "w_in"}
