"""Automatic rescue from the no-learning zone by lowering the output confidence.

In the no-learning zone (docs/theory.md, Fig. 3B) the loss is high and the gradient
is (numerically) zero, because a confident readout saturates. A finite, lower
confidence gives back a small gradient that points towards recovery (docs/theory.md
§2.2, Fig. 8A). The rescue rule, checked once per epoch::

    trapped_e  =  ‖∇L_e‖ < grad_ratio · max_{e' < e} ‖∇L_{e'}‖   and   L_e > loss_min
    if trapped_e and not rescuing:  confidence ← low for `epochs` epochs, then restore

The running max is taken over epochs at the normal confidence only; it starts
at ``grad_max0`` (0: a run from scratch; set it when resuming a trapped run). Two
implementations of the same rule:

* :func:`train_rank1_da_rescue` - grids of rank-one DA networks (the exact
  kernel of :mod:`ghostmech.training.kernels`), the rule inside the
  ``lax.scan``; β is per network DATA, so a grid over β (Fig. 8B) is one program.
  With ``rescue=None`` it is plain SGD at the given per-network β.
* :func:`fit_with_rescue` - any network whose readout has a confidence (β of
  Eq. 36 or c of Eq. 40): host-side check after every ``check_every`` epochs,
  confidence set with `SetValue`.

Both train through the engine's one loop (`ghostmech.training.engine.drive`):
the first with an executor that runs the scan for a chunk, the second with
`OneNetwork` (the program of `fit`) and the rule as an engine `Rule`.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ghostmech._checks import check_nonnegative, check_positive, check_positive_int
from ghostmech.training.engine import MemorySink, OneNetwork, drive, make_schedule
from ghostmech.training.fit import resolve_batch
from ghostmech.training.interventions import SetValue, _confidence_path
from ghostmech.training.kernels import rank1_da_value_and_grad
from ghostmech.training.state import init_state

__all__ = ["Rescue", "RescueResult", "train_rank1_da_rescue", "fit_with_rescue"]


@dataclasses.dataclass(frozen=True)
class Rescue:
    """The rescue rule (module docstring): thresholds, the low confidence and its duration."""

    low: float = 1.0
    epochs: int = 100
    grad_ratio: float = 1e-6
    loss_min: float = 0.5
    grad_max0: float = 0.0  # the running max starts here (> 0 when resuming a trapped run)

    def __post_init__(self) -> None:
        check_nonnegative("grad_max0", self.grad_max0)
        check_positive("low", self.low)
        check_positive_int("epochs", self.epochs)
        check_positive("grad_ratio", self.grad_ratio)
        check_nonnegative("loss_min", self.loss_min)


@dataclasses.dataclass(frozen=True)
class RescueResult:
    """``params`` (final), ``metrics`` (``loss``, ``grad_norm`` at the confidence in use,
    ``rescuing`` 0/1, each ``[..., epochs]``), ``starts`` (epochs at which a rescue began,
    per network), ``status`` (0 ok, 1 diverged)."""

    params: Any
    metrics: dict[str, np.ndarray]
    starts: list[list[int]]
    status: np.ndarray


def _policy(rescue: Rescue | None, mask, nets: int):
    """(low, k, ratio [nets], loss_min); ratio 0 where the rule is off (it never triggers)."""
    if rescue is None:
        return 1.0, 1, jnp.zeros(nets), 0.0
    on = jnp.broadcast_to(jnp.asarray(True if mask is None else mask, bool), (nets,))
    return rescue.low, rescue.epochs, jnp.where(on, rescue.grad_ratio, 0.0), rescue.loss_min


@partial(jax.jit, static_argnames=("n_epochs", "delay", "response"))
def _scan(params, lr, beta, carry, *, n_epochs, low, k, ratio, loss_min, delay, response):
    def epoch(c, _):
        (m, n, b), gmax, left, status = c
        rescuing = left > 0
        beta_now = jnp.where(rescuing, low, beta)
        loss, grads = rank1_da_value_and_grad(
            m, n, b, beta=beta_now, delay=delay, response=response
        )
        gn = jnp.sqrt(sum((g**2).sum(-1) for g in grads))
        new = tuple(p - lr[:, None] * g for p, g in zip((m, n, b), grads, strict=True))
        ok = (status == 0) & jnp.isfinite(loss) & jnp.isfinite(gn)
        params = tuple(
            jnp.where(ok[:, None], p1, p0) for p1, p0 in zip(new, (m, n, b), strict=True)
        )
        trigger = ~rescuing & (gn < ratio * gmax) & (loss > loss_min) & ok
        gmax = jnp.where(rescuing, gmax, jnp.maximum(gmax, gn))
        left = jnp.where(trigger, k, jnp.maximum(left - 1, 0))
        status = jnp.where(ok | (status != 0), status, 1)
        return (params, gmax, left, status), (loss, gn, rescuing.astype(loss.dtype))

    return jax.lax.scan(epoch, (params, *carry), None, length=n_epochs)


class _Carry(NamedTuple):
    """The state `drive` moves through the rank-one rescue scan (``epoch``: updates done)."""

    params: tuple
    gmax: Any
    left: Any
    status: Any
    epoch: int


class _InScan:
    """Executor: ``n`` epochs of `_scan` (the rule checked inside it, every epoch)."""

    def __init__(self, lr, beta, policy: dict):
        self.lr, self.beta, self.policy = lr, beta, policy
        self.width = int(lr.shape[0])  # the whole grid is one program (as given, no padding)

    def run(self, c: _Carry, start: int, n: int):
        carry = (c.gmax, c.left, c.status)
        (params, *carry), out = _scan(c.params, self.lr, self.beta, carry, n_epochs=n,
                                      **self.policy)  # fmt: skip
        names = ("loss", "grad_norm", "rescuing")
        metrics = {k: np.asarray(x).T for k, x in zip(names, out, strict=True)}
        return _Carry(params, *carry, c.epoch + n), metrics

    def apply(self, c, intervention, axes):
        raise ValueError("the rank-one rescue scan takes no scheduled interventions")


def train_rank1_da_rescue(
    m: Float[Array, "nets n"],
    n: Float[Array, "nets n"],
    b: Float[Array, "nets n"],
    lr: Float[Array, " nets"],
    *,
    beta: Float[Array, " nets"],
    epochs: int,
    rescue: Rescue | None = None,
    rescue_mask: Float[Array, " nets"] | None = None,
    delay: int = 20,
    response: int = 20,
    chunk: int = 10_000,
) -> RescueResult:
    """SGD on a grid of rank-one DA networks (β per network), with the rescue rule if given.

    ``rescue_mask`` (bool ``[nets]``, default all): the networks the rule applies to,
    so rescued and plain networks can share one program.

    Same loss and gradient as `ghostmech.training.kernels.train_rank1_da_chunk`
    (β, κ_θ = 1, α = 0.5, r₀ = −0.3); metrics are measured before each update.

    The whole grid is one program at its own width (no fixed-width groups as in the
    kernel); a network's bits were measured not to depend on that width (alone or
    among 11, under default, AVX2 and SSE4_2 rounding; tests/training/test_rescue.py).

    >>> import jax.numpy as jnp
    >>> res = train_rank1_da_rescue(jnp.full((2, 4), .1), jnp.full((2, 4), .1),
    ...     jnp.zeros((2, 4)), jnp.full(2, 1e-2), beta=jnp.array([10., 1.]), epochs=3)
    >>> res.metrics["loss"].shape
    (2, 3)
    """
    epochs, chunk = check_positive_int("epochs", epochs), check_positive_int("chunk", chunk)
    params = tuple(jnp.asarray(a, jnp.float32) for a in (m, n, b))
    nets = params[0].shape[0]
    lr = jnp.broadcast_to(jnp.asarray(lr, jnp.float32), (nets,))
    beta = jnp.broadcast_to(jnp.asarray(beta, jnp.float32), (nets,))
    low, k, ratio, loss_min = _policy(rescue, rescue_mask, nets)
    gmax0 = 0.0 if rescue is None else rescue.grad_max0
    carry = _Carry(params, jnp.full(nets, gmax0), jnp.zeros(nets, jnp.int32),
                   jnp.zeros(nets, jnp.int32), 0)  # fmt: skip
    policy = dict(low=low, k=k, ratio=ratio, loss_min=loss_min, delay=delay, response=response)
    sink = MemorySink()
    carry = drive(carry, _InScan(lr, beta, policy), make_schedule(epochs, chunk=chunk), sink)
    met = sink.metrics()
    starts = [np.flatnonzero(np.diff(np.concatenate([[0.0], r])) > 0) for r in met["rescuing"]]
    return RescueResult(
        params=dict(zip("mnb", (np.asarray(p) for p in carry.params), strict=True)),
        metrics=met,
        starts=[[int(s) for s in row] for row in starts],
        status=np.asarray(carry.status),
    )


def fit_with_rescue(
    net: Any,
    task: Any,
    *,
    lr: float,
    epochs: int,
    key: PRNGKeyArray,
    rescue: Rescue,
    check_every: int = 50,
    optimizer: str = "sgd",
    batch: Any = "all",
) -> RescueResult:
    """Train ``net`` with the rescue rule checked every ``check_every`` epochs (host side).

    The check uses the last epoch of each chunk; a rescue sets the readout's
    confidence (``readout.beta`` or ``readout.c``) to ``rescue.low`` for
    ``rescue.epochs`` epochs, then restores the value it had.
    """
    check_every = check_positive_int("check_every", check_every)
    epochs = check_positive_int("epochs", epochs)
    data = resolve_batch(task, batch)
    state = init_state(net, optimizer=optimizer, lr=lr, key=key)
    path = _confidence_path(state)
    rule = _HostRule(rescue, check_every, path, _get_conf(state.net, path), epochs)
    # chunks never longer than one check or one rescue: the rule ends each one
    schedule = make_schedule(epochs, chunk=max(check_every, rescue.epochs))
    sink = MemorySink()
    state = drive(state, OneNetwork(task, data, schedule.chunk), schedule, sink, rule=rule)
    metrics = sink.metrics() | {"rescuing": np.concatenate(rule.flags)}
    return RescueResult(state.net, metrics, [rule.starts], np.asarray([int(state.status)]))


class _HostRule:
    """The rescue rule as a `ghostmech.training.engine.Rule`, checked at the end of every
    chunk of ``check_every`` epochs; a rescue lasts ``rescue.epochs`` (or to ``epochs``,
    the end of the run, where the confidence is restored too)."""

    def __init__(self, rescue: Rescue, check_every: int, path: str, normal: float, epochs: int):
        self.rescue, self.every, self.path, self.normal = rescue, check_every, path, normal
        self.epochs = epochs
        self.gmax, self.left = rescue.grad_max0, 0
        self.starts: list[int] = []
        self.flags: list[np.ndarray] = []

    def stop_after(self, epoch: int) -> int:
        return epoch + (self.left if self.left > 0 else self.every)

    def decide(self, start: int, stop: int, metrics: dict) -> tuple:
        self.flags.append(np.full(stop - start, 1.0 if self.left > 0 else 0.0))
        if self.left > 0:
            self.left = max(self.left - (stop - start), 0)
            if self.left > 0 and stop < self.epochs:  # cut by another event: go on
                return ()
            self.left = 0  # the rescue is over: restore the confidence
            return (SetValue(stop, self.path, self.normal),)
        loss, gn = float(metrics["loss"][-1]), float(metrics["grad_norm"][-1])
        self.gmax = max(self.gmax, float(np.nanmax(np.asarray(metrics["grad_norm"]))))
        trapped = gn < self.rescue.grad_ratio * self.gmax and loss > self.rescue.loss_min
        if trapped and stop < self.epochs:  # no rescue starts at the run's end
            self.left = self.rescue.epochs
            self.starts.append(stop)
            return (SetValue(stop, self.path, self.rescue.low),)
        return ()


def _get_conf(net: Any, path: str) -> float:
    obj = net
    for part in path.split("."):
        obj = getattr(obj, part)
    return float(obj)
