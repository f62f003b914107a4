"""Interventions: changes applied to a `TrainState` at a chosen epoch.

`fit` and `sweep` split training at each intervention's ``epoch`` (after that
many updates) and apply it between chunks, so shapes never change:

* `SetHyper` / `SetLR`   set an optimiser hyper-parameter (it is data, optax
  ``inject_hyperparams``), e.g. a learning-rate drop;
* `SetValue`             set a network array, e.g. ``readout.beta`` (Eq. 36's
  confidence β) or ``readout.c`` (Eq. 40's fixed confidence c);
* `Freeze` / `Unfreeze`  stop / restart training of parts (the 0/1 update mask);
* `FixConfidence`        set the readout's confidence (β or c) and freeze it.

A value may be a number or the NAME of a sweep axis (``value="beta_after"``):
each network of the grid then gets its own value (docs/model.md §4, Fig. 8B).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ghostmech.training.state import TrainState

__all__ = ["Intervention", "SetHyper", "SetLR", "SetValue", "Freeze", "Unfreeze", "FixConfidence"]


def _resolve(value: Any, axes: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if value not in axes:
            allowed = ", ".join(repr(a) for a in axes) or "none"
            raise ValueError(f"`value` (={value!r}) names no sweep axis; axes: {allowed}")
        return axes[value]
    return value


def _get(tree: Any, path: str) -> Any:
    for part in path.split("."):
        if not hasattr(tree, part):
            raise ValueError(f"`path` (={path!r}) does not name a field of the network")
        tree = getattr(tree, part)
    return tree


def _at(path: str):
    def where(tree):
        return _get(tree, path)

    return where


class Intervention(eqx.Module):
    """Base class: ``epoch`` (applied after that many updates) and ``apply``."""

    epoch: int = eqx.field(static=True)

    def apply(self, state: TrainState, axes: Mapping[str, Any] = {}) -> TrainState:  # noqa: B006
        raise NotImplementedError


class SetHyper(Intervention):
    """Set the optimiser hyper-parameter ``name`` (e.g. ``"learning_rate"``) to ``value``."""

    name: str = eqx.field(static=True)
    value: Any

    def apply(self, state, axes={}):  # noqa: B006
        hyper = state.opt_state.hyperparams
        if self.name not in hyper:
            allowed = ", ".join(repr(k) for k in hyper)
            raise ValueError(f"`name` (={self.name!r}) must be one of: {allowed}")
        old = hyper[self.name]
        new = jnp.asarray(_resolve(self.value, axes), old.dtype)
        opt_state = state.opt_state._replace(hyperparams={**hyper, self.name: new})
        return eqx.tree_at(lambda s: s.opt_state, state, opt_state)


def SetLR(epoch: int, lr: Any) -> SetHyper:
    """Set the learning rate to ``lr`` from ``epoch`` on."""
    return SetHyper(epoch, "learning_rate", lr)


class SetValue(Intervention):
    """Set the network array at ``path`` (``"readout.beta"``, ``"b"``, ...) to ``value``."""

    path: str = eqx.field(static=True)
    value: Any

    def apply(self, state, axes={}):  # noqa: B006
        part = "params" if _get(state.params, self.path) is not None else "frozen"
        tree = getattr(state, part)
        old = _get(tree, self.path)
        new = jnp.broadcast_to(jnp.asarray(_resolve(self.value, axes), old.dtype), old.shape)
        return eqx.tree_at(
            lambda s: getattr(s, part), state, eqx.tree_at(_at(self.path), tree, new)
        )


def _set_mask(state: TrainState, path: str, on: bool) -> TrainState:
    sub = _get(state.mask, path)
    if sub is None:  # a frozen field of the network: never trained anyway
        return state
    value = jax.tree.map(lambda m: jnp.full_like(m, 1.0 if on else 0.0), sub)
    return eqx.tree_at(lambda s: _get(s.mask, path), state, value)


class Freeze(Intervention):
    """Stop training the fields at ``paths`` (gradients and updates masked to 0)."""

    paths: tuple[str, ...] = eqx.field(static=True)

    def apply(self, state, axes={}):  # noqa: B006
        for path in self.paths:
            state = _set_mask(state, path, False)
        return state


class Unfreeze(Intervention):
    """Resume training the fields at ``paths`` (only fields trained at the start)."""

    paths: tuple[str, ...] = eqx.field(static=True)

    def apply(self, state, axes={}):  # noqa: B006
        for path in self.paths:
            state = _set_mask(state, path, True)
        return state


def _confidence_path(state: TrainState) -> str:
    readout = state.skeleton.readout
    for name in ("beta", "c"):
        if hasattr(readout, name):
            return f"readout.{name}"
    raise ValueError(
        f"`FixConfidence` needs a readout with a confidence (beta or c), got {type(readout).__name__}"
    )


class FixConfidence(Intervention):
    """Set the readout confidence (β of Eq. 36 or c of Eq. 40) to ``value`` and freeze it.

    ``value=None`` freezes it at its current value.
    """

    value: Any = None

    def apply(self, state, axes={}):  # noqa: B006
        path = _confidence_path(state)
        if self.value is not None:
            state = SetValue(self.epoch, path, self.value).apply(state, axes)
        return Freeze(self.epoch, (path,)).apply(state, axes)
