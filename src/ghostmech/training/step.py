"""One training epoch (one parameter update) and a jitted chunk of epochs.

Epoch e of a network with state s:

    k_e = fold_in(s.key, e);  k_batch, k_noise = split(k_e)
    batch = fixed batch, or task.sample(key=k_batch, batch=B)
    (L, acc), g = value_and_grad(loss)(θ);  g ← mask·g
    u, opt ← optimiser(g);  θ' = θ + mask·u
    if L, g or θ' is non-finite: keep θ, opt; status ← 1; nan_epoch ← e

A diverged network (status 1) never updates again and reports NaN metrics.
Every epoch depends only on (state, e), so any chunking of the epochs gives
bit-identical results. `train_chunk` is jitted once per (chunk length, task,
batch mode, network structure, ``noisy``, ``record_every``); the number of
epochs actually run (``n_active``) is data, so a short last chunk reuses the
same program.

Speed. ``noisy`` is static: `train_chunk` reads the concrete ``noise_std`` of
the state before jitting and, when every σ is 0, runs the forward pass without
a noise key: no normals drawn, and a full-rank network runs batch-major with
the readout inside the time step (`ghostmech.training.losses.forward`; same
maths, float32 rounding may differ). With σ ≠ 0 the program is the one of
before: same keys, same draws, bitwise the same numbers. Under jit / vmap
(σ traced) ``noisy`` defaults to True.
Identical trials. A batch resolved by `ghostmech.training.distinct_trials.resolve`
(`fit`'s ``dedupe_trials=True``) runs, when ``noisy`` is False, only its
distinct trials, each weighted by its multiplicity through the mask: same
loss, accuracy and gradient up to float rounding (e.g. DCD with 1000 trials
runs 2). When noisy, the original batch (same draws, bitwise as before).
``record_every = k`` keeps the metrics of epochs e ≡ 0 (mod k) only
(subsampled, not averaged), counted from epoch 0 of training, so chunking
still never changes them.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int

from ghostmech._checks import check_positive_int
from ghostmech.training.distinct_trials import SampledTypes, select
from ghostmech.training.losses import loss_and_metrics
from ghostmech.training.state import TrainState, make_optimizer

__all__ = ["METRICS", "has_noise", "recorded_slots", "train_step", "train_chunk", "run_chunk"]

METRICS = ("loss", "grad_norm", "accuracy")


def _all_finite(tree: Any) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def _where(pred: Array, a: Any, b: Any) -> Any:
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)


def has_noise(state: TrainState) -> bool:
    """Static test: may ``state`` (one network or a stacked grid) draw recurrent noise?

    False only when ``noise_std`` is concrete and 0 for every network; True when
    it is traced (inside jit / vmap: decided at run time as before) or absent.
    """
    sigma = getattr(state.net, "noise_std", None)
    if sigma is None or isinstance(sigma, jax.core.Tracer):
        return True
    return bool(np.any(np.asarray(sigma) != 0))


def recorded_slots(start: int, n_epochs: int, record_every: int) -> tuple[int, int]:
    """(offset, count): of epochs ``start .. start + n_epochs − 1`` those ≡ 0 (mod k) are
    ``start + offset + j·k`` for ``j < count`` (k = ``record_every``)."""
    offset = -start % record_every
    return offset, max(0, -(-(n_epochs - offset) // record_every))


def _epoch_batch(state: TrainState, task: Any, batch: Any, noisy: bool):
    k_batch, k_noise = jax.random.split(jax.random.fold_in(state.key, state.epoch))
    batch = select(batch, noisy)
    if isinstance(batch, int):
        return task.sample(key=k_batch, batch=batch), k_noise
    if isinstance(batch, SampledTypes):
        return batch.draw(task, k_batch), k_noise
    return batch, k_noise


def train_step(
    state: TrainState, task: Any, batch: Any, *, noisy: bool = True
) -> tuple[TrainState, dict[str, Array]]:
    """One update of one network. ``batch``: a fixed `TaskBatch`, an int (sample that many)
    or its `distinct_trials.resolve` form (`Deduped`, `SampledTypes`).

    ``noisy=False`` (static) skips the noise draw: exact only when σ = 0 (see `has_noise`);
    a resolved batch then runs its distinct trials only (`distinct_trials.select`).
    """
    data, k_noise = _epoch_batch(state, task, batch, noisy)
    k_noise = k_noise if noisy else None

    def objective(params):
        net = eqx.combine(params, state.frozen, state.skeleton)
        return loss_and_metrics(net, data, key=k_noise, task=task)

    (loss, aux), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
    grads = jax.tree.map(lambda g, m: g * m, grads, state.mask)
    updates, opt_state = make_optimizer(state.optimizer, clip=state.clipped).update(
        grads, state.opt_state, state.params
    )
    updates = jax.tree.map(lambda u, m: u * m, updates, state.mask)
    params = optax.apply_updates(state.params, updates)
    alive = state.status == 0
    ok = jnp.isfinite(loss) & _all_finite(grads) & _all_finite(params)
    take = alive & ok
    died = alive & ~ok
    values = jnp.stack([loss, optax.tree.norm(grads), aux["accuracy"]])
    values = jnp.where(alive, values, jnp.nan)
    new = eqx.tree_at(
        lambda s: (s.params, s.opt_state, s.epoch, s.status, s.nan_epoch),
        state,
        (
            _where(take, params, state.params),
            _where(take, opt_state, state.opt_state),
            state.epoch + 1,
            jnp.where(died, 1, state.status),
            jnp.where(died, state.epoch, state.nan_epoch),
        ),
    )
    return new, dict(zip(METRICS, values, strict=True))


def run_chunk(
    state: TrainState,
    task: Any,
    batch: Any,
    n_epochs: int,
    n_active: Int[Array, ""],
    noisy: bool | None = None,
    record_every: int = 1,
) -> tuple[TrainState, dict[str, Float[Array, " slots"]]]:
    """``lax.scan`` of `train_step` over ``n_epochs`` slots; only the first ``n_active`` run.

    Slots past ``n_active`` leave the state untouched and report NaN. Pure and
    un-jitted: `train_chunk` jits it, `sweep` vmaps it. ``noisy`` (static; None:
    `has_noise`, True under tracing). With ``record_every = k > 1`` the metrics
    have ``ceil(n_epochs / k)`` slots: slot j is epoch ``start + offset + j·k``
    (`recorded_slots`; NaN past the last one run).
    """
    noisy = has_noise(state) if noisy is None else noisy
    dtype = jnp.result_type(*jax.tree.leaves(state.params), jnp.float32)
    start = state.epoch

    def body(s, i):
        def skip(s):
            return s, {k: jnp.full((), jnp.nan, dtype) for k in METRICS}

        def run(s):
            s, m = train_step(s, task, batch, noisy=noisy)
            return s, {k: v.astype(dtype) for k, v in m.items()}

        return jax.lax.cond(i < n_active, run, skip, s)

    state, metrics = jax.lax.scan(body, state, jnp.arange(n_epochs))
    if record_every == 1:
        return state, metrics
    k = record_every
    idx = -start % k + k * jnp.arange(-(-n_epochs // k))
    take = lambda x: jnp.take(x, idx, mode="fill", fill_value=jnp.nan)  # noqa: E731
    return state, {name: take(x) for name, x in metrics.items()}


_run_chunk_jit = eqx.filter_jit(run_chunk)


def train_chunk(
    state: TrainState,
    task: Any,
    n_epochs: int,
    *,
    batch: Any,
    n_active: int | None = None,
    record_every: int = 1,
    noisy: bool | None = None,
) -> tuple[TrainState, dict[str, Float[Array, " slots"]]]:
    """Jitted: train ONE network for ``n_active`` (default ``n_epochs``) epochs.

    Returns the new state and per-epoch metrics ``{"loss", "grad_norm",
    "accuracy"}`` of length ``n_epochs`` (NaN past ``n_active``). Loss and
    grad norm are measured at the parameters BEFORE that epoch's update.
    ``record_every = k``: only epochs ≡ 0 (mod k), ``ceil(n_epochs / k)`` slots
    (see `run_chunk`). ``noisy`` (default `has_noise`): False draws no noise and,
    for a full-rank network, runs the batch-major forward (`losses.forward`);
    True forces the noisy program (ξ = 0·normal when σ = 0).
    """
    k = check_positive_int("record_every", record_every)
    n = n_epochs if n_active is None else n_active
    active = jnp.asarray(n, jnp.int32)
    noisy = has_noise(state) if noisy is None else bool(noisy)
    batch = select(batch, noisy)  # noisy: the batch (and program) of before, bitwise
    return _run_chunk_jit(state, task, batch, n_epochs, active, noisy, k)
