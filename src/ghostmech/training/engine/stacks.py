"""Stacks of equally-shaped networks / train states: stack, take, join along the network axis."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["stack", "take", "put", "concat", "size", "padded_index"]


def stack(trees: list[Any]) -> Any:
    """Stack the array leaves of equally-shaped pytrees; other leaves from the first."""
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *arrays)
    return eqx.combine(stacked, eqx.filter(trees[0], eqx.is_array, inverse=True))


def take(tree: Any, index: Any) -> Any:
    """Rows ``index`` (an int: one unstacked tree; an array: a stack) of every array leaf."""
    return jax.tree.map(lambda x: x[index] if eqx.is_array(x) else x, tree)


def put(tree: Any, index: Any, rows: Any) -> Any:
    """``tree`` with rows ``index`` of every array leaf set to those of ``rows`` (a stack
    shaped like ``take(tree, index)``); rows whose index is ≥ the stack's size are
    dropped; the other leaves from ``tree``."""
    arrays = eqx.filter(tree, eqx.is_array)
    new = eqx.filter(rows, eqx.is_array)
    joined = jax.tree.map(lambda x, y: jnp.asarray(x).at[index].set(y, mode="drop"), arrays, new)
    return eqx.combine(joined, eqx.filter(tree, eqx.is_array, inverse=True))


def concat(trees: list[Any]) -> Any:
    """Join stacks along the network axis (numpy or jax leaves)."""
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    xp = jnp if isinstance(jax.tree.leaves(arrays[0])[0], jax.Array) else np
    joined = jax.tree.map(lambda *xs: xp.concatenate(xs), *arrays)
    return eqx.combine(joined, eqx.filter(trees[0], eqx.is_array, inverse=True))


def size(states: Any) -> int:
    """Networks in a stack of train states."""
    return int(np.shape(states.epoch)[0])


def padded_index(indices: np.ndarray, width: int) -> np.ndarray:
    """``indices`` padded with copies of its last entry to a multiple of ``width``."""
    indices = np.asarray(indices, np.int64)
    pad = -indices.size % width
    return np.concatenate([indices, np.full(pad, indices[-1], np.int64)])
