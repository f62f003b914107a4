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
batch mode, network structure); the number of epochs actually run
(``n_active``) is data, so a short last chunk reuses the same program.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int

from ghostmech.training.losses import loss_and_metrics
from ghostmech.training.state import TrainState, make_optimizer

__all__ = ["METRICS", "train_step", "train_chunk", "run_chunk"]

METRICS = ("loss", "grad_norm", "accuracy")


def _all_finite(tree: Any) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def _where(pred: Array, a: Any, b: Any) -> Any:
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)


def _epoch_batch(state: TrainState, task: Any, batch: Any):
    k_batch, k_noise = jax.random.split(jax.random.fold_in(state.key, state.epoch))
    if isinstance(batch, int):
        return task.sample(key=k_batch, batch=batch), k_noise
    return batch, k_noise


def train_step(state: TrainState, task: Any, batch: Any) -> tuple[TrainState, dict[str, Array]]:
    """One update of one network. ``batch``: a fixed `TaskBatch` or an int (sample that many)."""
    data, k_noise = _epoch_batch(state, task, batch)

    def objective(params):
        net = eqx.combine(params, state.frozen, state.skeleton)
        return loss_and_metrics(net, data, key=k_noise, task=task)

    (loss, aux), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
    grads = jax.tree.map(lambda g, m: g * m, grads, state.mask)
    updates, opt_state = make_optimizer(state.optimizer).update(
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
    state: TrainState, task: Any, batch: Any, n_epochs: int, n_active: Int[Array, ""]
) -> tuple[TrainState, dict[str, Float[Array, " n_epochs"]]]:
    """``lax.scan`` of `train_step` over ``n_epochs`` slots; only the first ``n_active`` run.

    Slots past ``n_active`` leave the state untouched and report NaN. Pure and
    un-jitted: `train_chunk` jits it, `sweep` vmaps it.
    """

    dtype = jnp.result_type(*jax.tree.leaves(state.params), jnp.float32)

    def body(s, i):
        def skip(s):
            return s, {k: jnp.full((), jnp.nan, dtype) for k in METRICS}

        def run(s):
            s, m = train_step(s, task, batch)
            return s, {k: v.astype(dtype) for k, v in m.items()}

        return jax.lax.cond(i < n_active, run, skip, s)

    return jax.lax.scan(body, state, jnp.arange(n_epochs))


_run_chunk_jit = eqx.filter_jit(run_chunk)


def train_chunk(
    state: TrainState, task: Any, n_epochs: int, *, batch: Any, n_active: int | None = None
) -> tuple[TrainState, dict[str, Float[Array, " n_epochs"]]]:
    """Jitted: train ONE network for ``n_active`` (default ``n_epochs``) epochs.

    Returns the new state and per-epoch metrics ``{"loss", "grad_norm",
    "accuracy"}`` of length ``n_epochs`` (NaN past ``n_active``). Loss and
    grad norm are measured at the parameters BEFORE that epoch's update.
    """
    n = n_epochs if n_active is None else n_active
    return _run_chunk_jit(state, task, batch, n_epochs, jnp.asarray(n, jnp.int32))
