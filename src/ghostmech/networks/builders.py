"""Build a `RateRNN` from arrays (`from_arrays`); swap its readout (`fix_confidence`).

`from_arrays` checks every shape and that every weight is finite, raising
``ValueError`` that names the field; `make_network` draws arrays and calls it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import (
    check_int_in_range,
    check_nonnegative,
    check_one_of,
    check_positive,
    check_positive_int,
)
from ghostmech.networks.readouts import READOUTS
from ghostmech.networks.rnn import NOISE_SCALINGS, READS, RateRNN

__all__ = [
    "fix_confidence",
    "from_arrays",
    "DEFAULT_INIT",
    "FIELDS",
    "READOUT_ARRAYS",
]

#: every field an initialiser can fill, in the order keys are split (fixed, so that
#: overriding one field's initialiser never changes another field's draw)
FIELDS = ("m", "nT", "w", "w_in", "b", "r0", "w_out", "b_out")

DEFAULT_INIT: dict[str, Any] = {
    "m": "normal_inv_n",
    "nT": "normal_inv_n",
    "w": "normal_inv_n",
    "w_in": "xavier_uniform",
    "b": "zeros",
    "r0": "zeros",
    "w_out": "xavier_uniform",
    "b_out": "zeros",
}


#: the arrays (and defaults for scalars) each readout takes
READOUT_ARRAYS: dict[str, dict[str, float | None]] = {
    "threshold": {"beta": 10.0, "theta": 1.0},
    "linear": {"w_out": None, "b_out": None},
    "latent": {"w_out": None, "b_out": None},
    "fixed_confidence": {"w_out": None, "b_out": None, "c": 1.0},
}
DEFAULT_ACTIVATION = {"linear": "sigmoid", "latent": "tanh", "fixed_confidence": "tanh"}


def _array(name: str, value: Any, shape: tuple[int, ...]) -> jax.Array:
    if value is None:
        raise ValueError(f"`{name}` is required (expected shape {shape})")
    if isinstance(value, jax.core.Tracer):  # under jit / eval_shape: shapes only
        if value.shape != shape:
            raise ValueError(f"`{name}` has shape {value.shape}; expected {shape}")
        return value.astype(jnp.result_type(float))
    arr = np.asarray(value)
    if arr.shape != shape:
        raise ValueError(f"`{name}` has shape {arr.shape}; expected {shape}")
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must contain only finite real numbers")
    return jnp.asarray(value, dtype=jnp.result_type(float))


def _build_readout(name: str, arrays: Mapping[str, Any], activation, *, n: int, k: int | None):
    check_one_of("readout", name, READOUTS)
    if name in ("threshold", "latent") and k is None:
        raise ValueError(f"`readout` (={name!r}) reads κ = Nᵀ r and needs an integer `rank`")
    if name == "threshold":
        if activation is not None:
            raise ValueError("`activation` does not apply to readout 'threshold' (always sigmoid)")
        beta = _array("beta", arrays.get("beta", 10.0), ())
        theta = _array("theta", arrays.get("theta", 1.0), ())
        return READOUTS[name](beta=beta, theta=theta, k=k)
    w_out = arrays.get("w_out")
    n_out = np.shape(w_out)[0] if np.ndim(w_out) == 2 else 1
    w_out = _array("w_out", w_out, (n_out, k if name == "latent" else n))
    b_out = _array("b_out", arrays.get("b_out"), (n_out,))
    act = DEFAULT_ACTIVATION[name] if activation is None else activation
    if name == "fixed_confidence":
        c = _array("c", arrays.get("c", 1.0), ())
        return READOUTS[name](w_out=w_out, b_out=b_out, c=c, activation=act)
    return READOUTS[name](w_out=w_out, b_out=b_out, activation=act)


def from_arrays(
    *,
    w_in,
    b,
    r0,
    m=None,
    nT=None,
    w=None,
    readout: str = "linear",
    w_out=None,
    b_out=None,
    beta=None,
    theta=None,
    c=None,
    activation: str | None = None,
    alpha: float = 0.5,
    noise_std: float = 0.0,
    noise_scaling: str = "paper",
    read: str = "after",
    frozen: tuple[str, ...] = (),
) -> RateRNN:
    """Assemble a `RateRNN` from arrays (numpy, jax or anything array-like).

    Give ``m`` and ``nT`` (``[n, k]``, W = m @ nT.T) or ``w`` (``[n, n]``).
    ``w_in`` is ``[n, n_in]``; ``b``, ``r0`` are ``[n]``; readout arrays as in
    `READOUT_ARRAYS` (``w_out`` is ``[n_out, n]``, or ``[n_out, k]`` for "latent").
    PyTorch ``nn.Linear`` weights have this layout already. Under ``jit`` or
    ``jax.eval_shape`` (traced arrays) only shapes are checked, not finiteness.
    """
    if np.ndim(w_in) != 2:
        raise ValueError(f"`w_in` has shape {np.shape(w_in)}; expected (n, n_in)")
    n, n_in = np.shape(w_in)
    check_positive_int("n_in", n_in)
    if (w is None) == (m is None and nT is None):
        raise ValueError("give either `m` and `nT` (rank K) or `w` (full rank), not both")
    k = None
    if w is None:
        k = np.shape(m)[1] if np.ndim(m) == 2 else 0
        check_int_in_range("rank", k, 1, n)
        m_, nT_, w_ = _array("m", m, (n, k)), _array("nT", nT, (n, k)), None
    else:
        m_, nT_, w_ = None, None, _array("w", w, (n, n))
    given = {"w_out": w_out, "b_out": b_out, "beta": beta, "theta": theta, "c": c}
    arrays = {key: v for key, v in given.items() if v is not None}
    extra = sorted(set(arrays) - set(READOUT_ARRAYS.get(readout, arrays)))
    if extra:
        raise ValueError(f"`{extra[0]}` is not an array of readout {readout!r}")
    alpha = check_positive("alpha", alpha)
    if alpha > 1:
        raise ValueError(f"`alpha` (={alpha!r}) must lie in (0, 1]")
    return RateRNN(
        m=m_,
        nT=nT_,
        w=w_,
        w_in=_array("w_in", w_in, (n, n_in)),
        b=_array("b", b, (n,)),
        r0=_array("r0", r0, (n,)),
        readout=_build_readout(readout, arrays, activation, n=n, k=k),
        noise_std=jnp.asarray(
            check_nonnegative("noise_std", noise_std), dtype=jnp.result_type(float)
        ),
        alpha=alpha,
        noise_scaling=check_one_of("noise_scaling", noise_scaling, NOISE_SCALINGS),
        read=check_one_of("read", read, READS),
        frozen=tuple(frozen),
    )


def fix_confidence(net: RateRNN, c: float, *, freeze: bool = True) -> RateRNN:
    """Swap a linear readout for Eq. 40, z = φ(c (w_out r + b_out)/‖w_out‖₁), keeping w_out, b_out.

    Fig. 8C: train with Eq. 38 ("free" confidence), then fix the confidence at ``c``.
    With ``freeze`` the new ``readout.c`` is added to ``net.frozen``; pass
    ``freeze=False`` to let c train.
    """
    ro = net.readout
    if type(ro) is not READOUTS["linear"]:
        raise ValueError(f"`net.readout` (={type(ro).__name__}) must be a LinearReadout")
    c = jnp.asarray(check_positive("c", c), dtype=ro.w_out.dtype)
    new = READOUTS["fixed_confidence"](ro.w_out, ro.b_out, c, ro.activation)
    frozen = net.frozen + (("readout.c",) if freeze else ())
    return dataclasses.replace(net, readout=new, frozen=frozen)
