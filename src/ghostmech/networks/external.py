"""Networks trained elsewhere: plain ``.npz`` weights and PyTorch state dicts → `RateRNN`.

Every loader returns the rate network of SPEC §3 (Eq. 47),

    r_{t+1} = (1 − α) r_t + α tanh(W r_t + W_in u_t + b),   z_t = φ(w_out r_t + b_out),

so the dynamics finder, classification and portraits run on it unchanged.

* plain npz (:func:`from_plain_npz`): arrays ``W`` (or ``w``, ``W_rec``; or ``m``,
  ``nT`` for rank K), ``b``, optional ``W_in`` [n, n_in] (default zeros [n, 1]),
  ``w_out`` [n_out, n] and ``b_out`` (default a zero readout), ``r0`` (default 0)
  and the scalar ``alpha`` (α = Δt/τ; required, in the file or as an argument).
  A file written by :func:`ghostmech.networks.to_npz` is read as is.
* ``torch.nn.RNN`` (:func:`from_torch_rnn`, one layer, tanh, unidirectional):
  PyTorch computes h' = tanh(W_ih x + b_ih + W_hh h + b_hh). That is exactly the
  update above with **α = 1**, W = ``weight_hh_l0``, W_in = ``weight_ih_l0``,
  b = ``bias_ih_l0 + bias_hh_l0``, r0 = h0 (zeros unless given), and the output at
  step t read *after* the t-th update (``read="after"``, PyTorch's ``output[t]``).
  An ``nn.Linear`` readout's state dict (``weight``, ``bias``) gives w_out, b_out.
* a custom rate-RNN state dict (:func:`from_state_dict`): keys found by common
  names (``W_rec``/``weight_hh``/``J``/``W``, ``W_in``/``weight_ih``, ``b``/``bias``,
  ``w_out``/``readout.weight`` …) or given explicitly with ``names={"w": "rnn.J"}``;
  α must be given.

``torch`` is optional: it is imported only to read ``.pt`` files or to convert
tensors, and a missing install raises an ``ImportError`` that says how to get it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ghostmech._checks import check_one_of, check_positive
from ghostmech.networks.builders import from_arrays
from ghostmech.networks.io import FORMAT, from_npz
from ghostmech.networks.rnn import RateRNN

__all__ = [
    "FORMATS",
    "load_network",
    "from_plain_npz",
    "to_plain_npz",
    "from_torch_rnn",
    "to_torch_rnn_state_dict",
    "from_state_dict",
    "load_torch",
]

FORMATS = ("auto", "npz", "torch-rnn", "torch-state-dict")

#: candidate state-dict / npz keys of each RateRNN field, first match wins
ALIASES: dict[str, tuple[str, ...]] = {
    "w": ("W", "w", "W_rec", "w_rec", "J", "weight_hh", "weight_hh_l0", "rnn.weight_hh_l0",
          "recurrent.weight", "W_hh"),
    "m": ("m", "M"),
    "nT": ("nT", "n", "N"),
    "w_in": ("W_in", "w_in", "weight_ih", "weight_ih_l0", "rnn.weight_ih_l0", "input.weight",
             "W_ih"),
    "b": ("b", "bias", "b_rec", "bias_hh", "recurrent.bias"),
    "w_out": ("w_out", "W_out", "readout.weight", "output.weight", "fc.weight", "linear.weight"),
    "b_out": ("b_out", "readout.bias", "output.bias", "fc.bias", "linear.bias"),
    "r0": ("r0", "h0", "x0"),
}  # fmt: skip

_TORCH_HINT = "install it with `pip install torch==2.13.0` (the `bench` extra of ghostmech)"


def _numpy(value: Any) -> np.ndarray:
    """A numpy float64 copy of an array or a torch tensor (detached, on the CPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def load_torch(path: str | Path) -> dict[str, np.ndarray]:
    """Read a state dict saved with ``torch.save`` (``weights_only``: no code runs)."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"reading {str(path)!r} needs PyTorch; {_TORCH_HINT}") from err
    obj = torch.load(Path(path), map_location="cpu", weights_only=True)
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise ValueError(f"`path` (={str(path)!r}) holds a {type(obj).__name__}, not a state dict")
    return {k: _numpy(v) for k, v in obj.items()}


def _pick(arrays: Mapping[str, Any], field: str, names: Mapping[str, str]) -> np.ndarray | None:
    if field in names:
        if names[field] not in arrays:
            raise ValueError(f"`names[{field!r}]` (={names[field]!r}) is not a key; keys: "
                             f"{sorted(arrays)}")  # fmt: skip
        return _numpy(arrays[names[field]])
    for key in ALIASES[field]:
        if key in arrays:
            return _numpy(arrays[key])
    return None


def _assemble(found: dict[str, np.ndarray | None], *, alpha: float, activation: str | None,
              read: str) -> RateRNN:  # fmt: skip
    w, m = found["w"], found["m"]
    if w is None and m is None:
        raise ValueError(
            f"no recurrent weights found; give one of {list(ALIASES['w'])} (or `names`)"
        )
    n = (w if w is not None else m).shape[0]
    b = found["b"] if found["b"] is not None else np.zeros(n)
    w_in = found["w_in"] if found["w_in"] is not None else np.zeros((n, 1))
    w_out = found["w_out"] if found["w_out"] is not None else np.zeros((1, n))
    w_out = w_out.reshape(1, -1) if w_out.ndim == 1 else w_out
    b_out = found["b_out"] if found["b_out"] is not None else np.zeros(w_out.shape[0])
    r0 = found["r0"] if found["r0"] is not None else np.zeros(n)
    low = {} if w is not None else {"m": m.reshape(n, -1), "nT": found["nT"].reshape(n, -1)}
    return from_arrays(
        **({"w": w} if w is not None else low),
        w_in=w_in, b=b.reshape(n), r0=r0.reshape(n), w_out=w_out, b_out=b_out.reshape(-1),
        readout="linear", activation=activation, alpha=alpha, read=read,
    )  # fmt: skip


def _alpha(alpha, stored) -> float:
    if alpha is None and stored is None:
        raise ValueError("`alpha` (=None) must be given (α = Δt/τ in (0, 1]): the file has none")
    return check_positive("alpha", float(alpha if alpha is not None else stored))


def from_plain_npz(path: str | Path, *, alpha: float | None = None,
                   activation: str | None = None, read: str = "after") -> RateRNN:  # fmt: skip
    """Load W, b, W_in, w_out, b_out, r0, alpha from an npz (see module doc)."""
    with np.load(Path(path), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    if "meta" in arrays and FORMAT in str(arrays["meta"]):
        return from_npz(path)
    stored = next((arrays[k] for k in ("alpha", "α") if k in arrays), None)
    found = {f: _pick(arrays, f, {}) for f in ALIASES}
    return _assemble(found, alpha=_alpha(alpha, stored), activation=activation, read=read)


def to_plain_npz(net: RateRNN, path: str | Path) -> Path:
    """Write ``W, b, W_in, r0, alpha`` (+ ``w_out, b_out`` for a linear readout) as plain npz."""
    arrays = {"W": np.asarray(net.recurrent()), "b": np.asarray(net.b),
              "W_in": np.asarray(net.w_in), "r0": np.asarray(net.r0),
              "alpha": np.asarray(net.alpha)}  # fmt: skip
    if hasattr(net.readout, "w_out") and net.readout.w_out.shape[-1] == net.b.shape[0]:
        arrays |= {"w_out": np.asarray(net.readout.w_out), "b_out": np.asarray(net.readout.b_out)}
    path = Path(path)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


def from_torch_rnn(rnn: Any, readout: Any = None, *, h0: Any = None,
                   activation: str | None = None) -> RateRNN:  # fmt: skip
    """An ``nn.RNN`` (module or its state dict) as the α = 1 rate network (module doc).

    ``readout``: an ``nn.Linear`` or its state dict; ``h0``: initial state [n].
    """
    if hasattr(rnn, "nonlinearity"):
        if rnn.nonlinearity != "tanh" or rnn.num_layers != 1 or rnn.bidirectional:
            raise ValueError(
                f"`rnn` must be a one-layer unidirectional tanh nn.RNN; got nonlinearity="
                f"{rnn.nonlinearity!r}, num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}"
            )
    sd = rnn.state_dict() if hasattr(rnn, "state_dict") else dict(rnn)
    extra = [k for k in sd if not k.endswith("_l0")]
    if extra or "weight_hh_l0" not in sd:
        raise ValueError(f"`rnn` state dict (keys {sorted(sd)}) must be one layer: *_l0 keys only")
    w = _numpy(sd["weight_hh_l0"])
    n = w.shape[0]
    b = sum((_numpy(sd[k]) for k in ("bias_ih_l0", "bias_hh_l0") if k in sd), np.zeros(n))
    ro = {} if readout is None else (readout.state_dict() if hasattr(readout, "state_dict")
                                     else dict(readout))  # fmt: skip
    found = {"w": w, "m": None, "nT": None, "w_in": _numpy(sd["weight_ih_l0"]), "b": b,
             "w_out": _numpy(ro["weight"]) if "weight" in ro else None,
             "b_out": _numpy(ro["bias"]) if "bias" in ro else None,
             "r0": None if h0 is None else _numpy(h0).reshape(n)}  # fmt: skip
    return _assemble(found, alpha=1.0, activation=activation, read="after")


def to_torch_rnn_state_dict(net: RateRNN) -> dict[str, np.ndarray]:
    """The ``nn.RNN`` state dict of an α = 1 network (b put in ``bias_ih_l0``, zero ``bias_hh_l0``)."""
    if net.alpha != 1.0:
        raise ValueError(f"`net.alpha` (={net.alpha!r}) must be 1: nn.RNN has no leak term")
    b = np.array(net.b, np.float32)  # writable copies (torch.from_numpy needs them)
    return {
        "weight_ih_l0": np.array(net.w_in, np.float32),
        "weight_hh_l0": np.array(net.recurrent(), np.float32),
        "bias_ih_l0": b,
        "bias_hh_l0": np.zeros_like(b),
    }


def from_state_dict(state: Mapping[str, Any], *, alpha: float, names: Mapping[str, str] | None = None,
                    activation: str | None = None, read: str = "after") -> RateRNN:  # fmt: skip
    """A custom rate-RNN state dict (tensors or arrays) → `RateRNN` (module doc)."""
    names = dict(names or {})
    unknown = sorted(set(names) - set(ALIASES))
    if unknown:
        raise ValueError(f"`names` key {unknown[0]!r} must be one of: {', '.join(ALIASES)}")
    found = {f: _pick(state, f, names) for f in ALIASES}
    return _assemble(found, alpha=check_positive("alpha", alpha), activation=activation, read=read)


def load_network(path: str | Path, *, fmt: str = "auto", alpha: float | None = None,
                 names: Mapping[str, str] | None = None) -> RateRNN:  # fmt: skip
    """Load ``path``: ``.npz`` → :func:`from_plain_npz`; ``.pt``/``.pth`` → an ``nn.RNN``
    state dict (keys ``*_l0``) or else a custom one (:func:`from_state_dict`)."""
    fmt = check_one_of("fmt", fmt, FORMATS)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`path` (={str(path)!r}) is not a file")
    if fmt == "auto":
        fmt = "npz" if path.suffix.lower() == ".npz" else "torch"
    if fmt == "npz":
        return from_plain_npz(path, alpha=alpha)
    sd = load_torch(path)
    if fmt == "torch-rnn" or (fmt == "torch" and "weight_hh_l0" in sd and not names):
        if alpha not in (None, 1.0):
            raise ValueError(f"`alpha` (={alpha!r}) must be 1 (or omitted) for an nn.RNN")
        return from_torch_rnn(sd)
    return from_state_dict(sd, alpha=_alpha(alpha, None), names=names)
