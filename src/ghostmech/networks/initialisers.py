"""Initialisers selectable by name (docs/model.md §4), one field at a time.

An initialiser is ``init(u, *, n, fan_in, **params) -> array``: it transforms
i.i.d. U(−1, 1) samples ``u`` of the field's shape (normals are √2·erfinv(u)),
so a whole network is drawn with ONE random-bit generation (fast to compile).
``n`` is the number of neurons and ``fan_in`` the input size of the layer the
field belongs to (for a 2-D weight ``[fan_out, fan_in]`` its own shape). A spec
is a name (``"normal_inv_n"``) or a mapping ``{"name": "constant", "value": -0.3}``.

========================  ==========================================  ==================
name                      distribution                                paper use
========================  ==========================================  ==================
``zeros``                 0                                           b (3A), r0 (7)
``constant``              ``value``                                   r0 = −0.3 (3A, 6A)
``normal``                N(0, std²)                                  m_k ~ N(0,1) (4); b ~ N(0,0.1²) (4)
``normal_inv_n``          N(0, 1/N)                                   m, n (3A); n_k (4); W (6A)
``uniform``               U(low, high)                                b ~ U(−1,1) (5); b_out ~ U(±1/√2) (4)
``uniform_inv_sqrt_fan``  U(±1/√fan_in) (PyTorch ``nn.Linear`` bias)  b_out (5, 7; assumed)
``xavier_uniform``        U(±gain·√(6/(fan_in+fan_out)))              W_in, w_out (4, 5); W (5, 7)
``xavier_normal``         N(0, gain²·2/(fan_in+fan_out))              (alternative for W)
``tanh_normal``           tanh(N(0, std²))                            r0 (4: std 0.3; 5: std 0.1)
========================  ==========================================  ==================
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from ghostmech._checks import check_one_of, check_positive

__all__ = ["INITIALISERS", "initialise", "resolve_init", "uniform_bits"]

Shape = tuple[int, ...]


def _fans(name: str, shape: Shape) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"`{name}` initialiser needs a 2-D weight, got shape {shape}")
    return shape[1], shape[0]


def _normal(u):
    """Standard normal from U(−1, 1) (inverse CDF: √2 erfinv(u), as ``jax.random.normal``)."""
    return jnp.sqrt(2.0) * jax.lax.erf_inv(u)


def _uniform(u, low, high):
    return low + (high - low) * (u + 1.0) / 2.0


def zeros(u, *, n, fan_in):
    return jnp.zeros_like(u)


def constant(u, *, n, fan_in, value: float = 0.0):
    return jnp.full_like(u, float(value))


def normal(u, *, n, fan_in, std: float = 1.0):
    return std * _normal(u)


def normal_inv_n(u, *, n, fan_in):
    return _normal(u) / math.sqrt(n)


def uniform(u, *, n, fan_in, low: float = -1.0, high: float = 1.0):
    return _uniform(u, low, high)


def uniform_inv_sqrt_fan(u, *, n, fan_in):
    return u / math.sqrt(fan_in)


def xavier_uniform(u, *, n, fan_in, gain: float = 1.0):
    f_in, f_out = _fans("xavier_uniform", u.shape)
    return gain * math.sqrt(6.0 / (f_in + f_out)) * u


def xavier_normal(u, *, n, fan_in, gain: float = 1.0):
    f_in, f_out = _fans("xavier_normal", u.shape)
    return gain * math.sqrt(2.0 / (f_in + f_out)) * _normal(u)


def tanh_normal(u, *, n, fan_in, std: float = 0.1):
    return jnp.tanh(std * _normal(u))


INITIALISERS: dict[str, Callable[..., Array]] = {
    f.__name__: f
    for f in (
        zeros,
        constant,
        normal,
        normal_inv_n,
        uniform,
        uniform_inv_sqrt_fan,
        xavier_uniform,
        xavier_normal,
        tanh_normal,
    )
}


def resolve_init(field: str, spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split a spec into ``(name, params)``; raise naming ``field`` if the name or a param is unknown."""
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, Mapping) and "name" in spec:
        params = dict(spec)
        name = params.pop("name")
    else:
        raise ValueError(
            f"`init[{field!r}]` (={spec!r}) must be an initialiser name or a mapping with a 'name' key"
        )
    check_one_of(f"init[{field!r}]", name, INITIALISERS)
    sig = inspect.signature(INITIALISERS[name])
    allowed = [p for p in sig.parameters if p not in ("u", "n", "fan_in")]
    for p in params:
        check_one_of(f"init[{field!r}] parameter", p, allowed)
    for p, v in params.items():
        if p in ("std", "gain"):
            check_positive(f"init[{field!r}].{p}", v)
    return name, params


def initialise(
    field: str,
    spec: str | Mapping[str, Any],
    *,
    key: PRNGKeyArray,
    shape: Shape,
    n: int,
    fan_in: int,
) -> Array:
    """Draw ``field`` of ``shape`` with the initialiser named in ``spec``."""
    name, params = resolve_init(field, spec)
    return INITIALISERS[name](uniform_bits(key, shape), n=n, fan_in=fan_in, **params)


def uniform_bits(key: PRNGKeyArray, shape: Shape) -> Array:
    """I.i.d. U(−1, 1) (open at −1) of ``shape``; a prefix of a longer 1-D draw with the same key."""
    low = jnp.nextafter(jnp.asarray(-1.0), jnp.asarray(0.0))
    return jax.random.uniform(key, shape, minval=low, maxval=1.0)
