"""Training state: optimisers by name, the trainable/frozen split, `TrainState`.

Optimisers are optax transformations wrapped in ``optax.inject_hyperparams``, so
the learning rate (and momentum, β₁, β₂, ε) live in the optimiser STATE as
arrays: networks of a grid differ only in data and the grid compiles once.

Gradient-norm clipping (``clip_norm=c``, any optimiser): the gradient g is
replaced by g·min(1, c/‖g‖) before the optimiser sees it (optax
``clip_by_global_norm``, the rule of PyTorch's ``clip_grad_norm_``); ``c`` is
injected too (a grid may vary it). Without ``clip_norm`` the optimiser is the
plain one (same state, same program as before).

A network is split three ways (``eqx.partition``):

* ``params``  the arrays that are trained (``networks.trainable_filter``: not
  under a path of ``net.frozen``, not ``noise_std``);
* ``frozen``  the other arrays (e.g. ``r0``, ``readout.beta``, ``noise_std``);
* ``skeleton`` everything that is not an array (static config), shared by a grid.

``mask`` (one 0/1 scalar per leaf of ``params``) multiplies gradients and
updates, so parts can be frozen mid-run without changing any shape.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Int, PRNGKeyArray

from ghostmech._checks import check_one_of, check_positive
from ghostmech.networks import trainable_filter

__all__ = [
    "OPTIMIZERS",
    "TrainState",
    "init_state",
    "make_optimizer",
    "split_network",
]

# name -> (optax factory, default hyper-parameters other than the learning rate)
OPTIMIZERS: dict[str, tuple[Any, dict[str, float]]] = {
    "sgd": (optax.sgd, {}),
    "momentum": (optax.sgd, {"momentum": 0.9}),
    "adam": (optax.adam, {"b1": 0.9, "b2": 0.999, "eps": 1e-8}),
}


def _clip_sgd(learning_rate: Any, clip_norm: Any, momentum: Any = None):
    """SGD (with momentum when given) after clipping the gradient's norm at ``clip_norm``."""
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.sgd(learning_rate, momentum))


def _clip_adam(learning_rate: Any, clip_norm: Any, b1: Any, b2: Any, eps: Any):
    """Adam after clipping the gradient's norm at ``clip_norm``."""
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(learning_rate, b1, b2, eps))


# explicit signatures: `inject_hyperparams` finds the hyper-parameters by inspection
_CLIPPED = {optax.sgd: _clip_sgd, optax.adam: _clip_adam}


def make_optimizer(
    name: str, lr: Any = 0.0, *, clip: bool = False, **hyper: Any
) -> optax.GradientTransformation:
    """The optax optimiser ``name`` with injectable hyper-parameters (lr is data).

    ``clip=True`` (or a ``clip_norm`` hyper-parameter) clips the gradient's global
    norm at ``clip_norm`` first.
    """
    check_one_of("optimizer", name, OPTIMIZERS)
    factory, defaults = OPTIMIZERS[name]
    clip = clip or "clip_norm" in hyper
    if clip:
        factory, defaults = _CLIPPED[factory], {**defaults, "clip_norm": 1.0}
        if not isinstance(hyper.get("clip_norm", 1.0), jax.core.Tracer):
            check_positive("clip_norm", hyper.get("clip_norm", 1.0))
    unknown = sorted(set(hyper) - set(defaults))
    if unknown:
        allowed = ", ".join(repr(k) for k in [*defaults, "clip_norm"]) or "none"
        raise ValueError(f"`{unknown[0]}` is not a hyper-parameter of {name!r}; allowed: {allowed}")
    return optax.inject_hyperparams(factory)(learning_rate=lr, **{**defaults, **hyper})


def split_network(net: Any) -> tuple[Any, Any, Any]:
    """``net`` -> (params, frozen, skeleton); `eqx.combine` of the three gives ``net`` back."""
    arrays, skeleton = eqx.partition(net, eqx.is_array)
    params, frozen = eqx.partition(arrays, trainable_filter(net))
    return params, frozen, skeleton


class TrainState(eqx.Module):
    """Everything that changes during training of ONE network (a pytree; vmap it for grids).

    ``epoch`` counts the updates done; ``status`` is 0 (ok) or 1 (diverged: the
    loss or gradient went non-finite at ``nan_epoch`` and the network stopped
    updating, keeping its last finite parameters; ``nan_epoch`` is −1 while ok).
    The noise/batch key of epoch e is ``fold_in(key, e)``, so training is
    independent of how the epochs are chunked.
    """

    params: Any
    frozen: Any
    skeleton: Any
    mask: Any
    opt_state: Any
    key: PRNGKeyArray
    epoch: Int[Array, ""]
    status: Int[Array, ""]
    nan_epoch: Int[Array, ""]
    optimizer: str = eqx.field(static=True)
    clipped: bool = eqx.field(static=True, default=False)

    @property
    def net(self) -> Any:
        """The current network (params + frozen + skeleton)."""
        return eqx.combine(self.params, self.frozen, self.skeleton)

    @property
    def hyper(self) -> dict[str, Array]:
        """The optimiser's injected hyper-parameters (``learning_rate`` ...)."""
        return self.opt_state.hyperparams


def init_state(net: Any, *, optimizer: str, lr: Any, key: PRNGKeyArray, **hyper: Any) -> TrainState:
    """Fresh `TrainState` for ``net``: optimiser ``optimizer`` at learning rate ``lr``.

    ``lr`` may be a traced array (inside vmap over a grid); a Python number is
    checked to be positive. ``hyper`` overrides the optimiser's other defaults;
    ``clip_norm=c`` adds gradient-norm clipping at c (`make_optimizer`).
    """
    if not isinstance(lr, jax.core.Tracer):
        check_positive("lr", lr)
    params, frozen, skeleton = split_network(net)
    opt = make_optimizer(optimizer, lr, **hyper)
    dtype = jnp.result_type(*jax.tree.leaves(params), jnp.float32)
    mask = jax.tree.map(lambda _: jnp.ones((), dtype), params)
    zero = jnp.zeros((), jnp.int32)
    return TrainState(
        params=params,
        frozen=frozen,
        skeleton=skeleton,
        mask=mask,
        opt_state=opt.init(params),
        key=key,
        epoch=zero,
        status=zero,
        nan_epoch=zero - 1,
        optimizer=optimizer,
        clipped="clip_norm" in hyper,
    )
