"""Draw a `RateRNN` with named initialisers per field (`make_network`).

All fields are drawn in one compiled call (cached per configuration) and
assembled by `from_arrays`, so every shape is checked in one place.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from ghostmech._checks import check_int_in_range, check_one_of, check_positive_int
from ghostmech.networks.builders import DEFAULT_INIT, FIELDS, READOUT_ARRAYS, from_arrays
from ghostmech.networks.initialisers import INITIALISERS, resolve_init, uniform_bits
from ghostmech.networks.presets import PRESETS
from ghostmech.networks.readouts import READOUTS
from ghostmech.networks.rnn import RateRNN

__all__ = ["make_network", "make_preset"]


def _field_shapes(n, k, n_in, n_out, readout) -> dict[str, tuple[tuple[int, ...], int]]:
    """shape and fan_in of each field this configuration needs."""
    out: dict[str, tuple[tuple[int, ...], int]] = {
        "w_in": ((n, n_in), n_in),
        "b": ((n,), n),
        "r0": ((n,), n),
    }
    if k is None:
        out["w"] = ((n, n), n)
    else:
        out["m"], out["nT"] = ((n, k), k), ((n, k), n)
    if readout in ("linear", "latent", "fixed_confidence"):
        d = k if readout == "latent" else n
        out["w_out"], out["b_out"] = ((n_out, d), d), ((n_out,), d)
    return out


def _hashable(spec: tuple[str, dict[str, Any]]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    name, params = spec
    return name, tuple(sorted((k, float(v)) for k, v in params.items()))


@functools.partial(jax.jit, static_argnames=("plan", "n"))
def _draw(key: PRNGKeyArray, plan: tuple, n: int) -> dict[str, jax.Array]:
    """All fields of ``plan`` in one compiled call (cached per configuration).

    Keys are split over `FIELDS` in a fixed order and a field takes a prefix of
    its key's U(−1, 1) stream (threefry is prefix-consistent), so a field's draw
    equals ``initialise(field, spec, key=that_key, ...)`` and does not depend on
    the other fields.
    """
    index = {f: i for i, f in enumerate(FIELDS)}
    keys = jax.random.split(key, len(FIELDS))[jnp.asarray([index[p[0]] for p in plan])]
    size = max(math.prod(p[3]) for p in plan)
    bits = jax.vmap(lambda k: uniform_bits(k, (size,)))(keys)  # one generator for all fields
    return {
        f: INITIALISERS[name](
            bits[i, : math.prod(shape)].reshape(shape), n=n, fan_in=fan_in, **dict(params)
        )
        for i, (f, name, params, shape, fan_in) in enumerate(plan)
    }


def make_network(
    *,
    n: int,
    rank: int | str,
    n_in: int = 1,
    n_out: int = 1,
    init: str | Mapping[str, Any] | None = None,
    readout: str = "linear",
    readout_kwargs: Mapping[str, Any] | None = None,
    alpha: float = 0.5,
    noise_std: float = 0.0,
    noise_scaling: str = "paper",
    read: str = "after",
    frozen: tuple[str, ...] = (),
    key: PRNGKeyArray,
) -> RateRNN:
    """Draw a `RateRNN` with named initialisers (`INITIALISERS`) per field.

    ``rank`` is an int in [1, n] (W = m @ nT.T) or ``"full"``. ``init`` maps field
    names (`FIELDS`) to initialiser specs, overriding `DEFAULT_INIT`; a string
    names a preset (`PRESETS`) whose ``init`` is used. ``readout`` is one of
    `READOUTS`; ``readout_kwargs`` holds its scalars (``beta``, ``theta``, ``c``)
    and ``activation``. The threshold readout has ``n_out = rank``.
    """
    n = check_positive_int("n", n)
    k = None if rank == "full" else check_int_in_range("rank", rank, 1, n)
    n_in, n_out = check_positive_int("n_in", n_in), check_positive_int("n_out", n_out)
    check_one_of("readout", readout, READOUTS)
    if isinstance(init, str):
        init = PRESETS[check_one_of("init", init, PRESETS)].init
    shapes = _field_shapes(n, k, n_in, n_out, readout)
    specs = dict(DEFAULT_INIT)
    for field, spec in (init or {}).items():
        if field not in shapes and field in FIELDS:  # e.g. a rank-K preset's m with rank "full"
            raise ValueError(
                f"`init field` (={field!r}) is not a field of a network with `rank` (={rank!r}) "
                f"and `readout` (={readout!r}); its fields are {sorted(shapes)}: choose a preset "
                "or init that matches the rank"
            )
        check_one_of("init field", field, list(shapes))
        specs[field] = spec
    plan = tuple(
        (f, *_hashable(resolve_init(f, specs[f])), shape, fan_in)
        for f, (shape, fan_in) in shapes.items()
    )
    arrays = _draw(key, plan, n)
    kwargs = dict(readout_kwargs or {})
    activation = kwargs.pop("activation", None)
    for name in kwargs:
        scalars = [a for a, v in READOUT_ARRAYS[readout].items() if v is not None]
        check_one_of(f"readout_kwargs of {readout!r}", name, [*scalars, "activation"])
    return from_arrays(
        **arrays,
        **kwargs,
        readout=readout,
        activation=activation,
        alpha=alpha,
        noise_std=noise_std,
        noise_scaling=noise_scaling,
        read=read,
        frozen=frozen,
    )


def make_preset(name: str, *, key: PRNGKeyArray, **overrides: Any) -> RateRNN:
    """`make_network` with the settings of ``PRESETS[name]``; ``overrides`` replace any of them.

    >>> import jax
    >>> make_preset("fig6b", rank=3, key=jax.random.key(0)).rank
    3
    """
    preset = PRESETS[check_one_of("preset", name, PRESETS)]
    kwargs = {**preset.network_kwargs(), **overrides}
    return make_network(key=key, **kwargs)
