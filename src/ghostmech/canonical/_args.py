"""Host-side argument handling shared by the canonical-model functions.

Scalar hyper-parameters (``T``, ``R``, ``beta``, ...) given as Python or NumPy
scalars are validated before tracing and raise ``ValueError`` naming the
argument. Values that are already JAX tracers (the caller ``vmap``-s or
``jit``-s over them) are passed through unchecked. Array ``eps`` values are
never checked element-wise.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech import _checks

SCALES = ("raw", "per_T")
METHODS = ("closed", "euler")
DEFAULT_X_THETA = 10.0  # the paper's output threshold (Fig. 2A, 8A)


def x64(fn):
    """Run ``fn`` with float64 enabled (library code never flips the global flag)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper


def is_traced(value: Any) -> bool:
    return isinstance(value, jax.core.Tracer)


def positive(name: str, value: Any) -> Any:
    return value if is_traced(value) else _checks.check_positive(name, value)


def nonnegative(name: str, value: Any) -> Any:
    return value if is_traced(value) else _checks.check_nonnegative(name, value)


def window(T: Any, R: Any) -> tuple[Any, Any]:
    """Validate the delay ``T`` (> 0) and response window ``R`` (>= 0, default T)."""
    T = positive("T", T)
    R = T if R is None else nonnegative("R", R)
    if not is_traced(T) and not 1e-100 <= float(T) <= 1e100:
        # ε* = π²/(4T²) must be a normal, non-zero float64.
        raise ValueError(f"`T` (={T!r}) must lie in [1e-100, 1e100] so that ε* is representable")
    return T, R


def eps_array(eps: Any) -> jax.Array:
    """``eps`` as a float64 array; strings, None and other non-numbers are refused."""
    if is_traced(eps):
        return jnp.asarray(eps, jnp.float64)
    message = f"`eps` (={eps!r}) must be a real number or an array of them"
    if isinstance(eps, bool | str) or eps is None:
        raise ValueError(message)
    if not isinstance(eps, jax.Array):
        try:
            eps = np.asarray(eps)
        except (TypeError, ValueError) as err:
            raise ValueError(message) from err
    if eps.dtype.kind not in "iuf":
        raise ValueError(f"{message}; got dtype {eps.dtype}")
    arr = jnp.asarray(eps)
    return arr.astype(jnp.float64)


def landscape_args(
    T: Any,
    R: Any,
    beta: Any,
    x_theta: Any,
    scale: str,
    method: str,
    dt: Any,
    clip: Any,
) -> dict[str, Any]:
    """Validate the loss arguments shared by ``loss``, ``loss_grad`` and ``descend``."""
    T, R = window(T, R)
    _checks.check_one_of("scale", scale, SCALES)
    _checks.check_one_of("method", method, METHODS)
    dt = _checks.check_positive("dt", dt)
    clip = _checks.check_positive("clip", clip)
    if beta is not None:
        beta = positive("beta", beta)
        x_theta = DEFAULT_X_THETA if x_theta is None else positive("x_theta", x_theta)
        if method == "euler" and (is_traced(T) or is_traced(R)):
            raise ValueError("`T` and `R` must be concrete numbers with method='euler'")
        if method == "euler" and dt > (T + R):
            raise ValueError(f"`dt` (={dt!r}) must not exceed the trial length T + R = {T + R}")
    return dict(T=T, R=R, beta=beta, x_theta=x_theta, scale=scale, method=method, dt=dt, clip=clip)


def bucket(n: int) -> int:
    """Padded batch size (a power of two, at least 8) so that similar sizes share a compile."""
    return max(8, 1 << max(0, n - 1).bit_length())


def padded_call(fn, *arrays: Any, fill: tuple[float, ...]):
    """Broadcast concrete ``arrays``, flatten, pad to :func:`bucket` size with ``fill``, call
    ``fn(*flat)`` (which maps over the leading axis) and undo the padding on every output leaf.
    """
    parts = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in arrays))
    shape, n = parts[0].shape, parts[0].size
    size = bucket(n)
    flat = [
        jnp.asarray(np.concatenate([p.reshape(-1), np.full(size - n, f)]))
        for p, f in zip(parts, fill, strict=True)
    ]
    out = fn(*flat)
    return jax.tree_util.tree_map(
        lambda leaf: jnp.asarray(np.asarray(leaf)[:n].reshape(shape + leaf.shape[1:])), out
    )
