"""Save and load a `RateRNN` as ``.npz`` (arrays + a JSON header), e.g. to share weights
with another implementation (PyTorch): ``to_npz(net, path)`` / ``from_npz(path)``.

File layout: one array per field (``m``, ``nT`` or ``w``; ``w_in``, ``b``, ``r0``;
readout arrays ``w_out``, ``b_out``, ``beta``, ``theta``, ``c``; ``noise_std``)
and ``meta``: a JSON string with ``readout``, ``activation``, ``alpha``,
``noise_scaling``, ``read``, ``frozen``, ``format``. Weight layout as in
`from_arrays` (``w_in`` ``[n, n_in]``, ``w_out`` ``[n_out, n]``, PyTorch's).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ghostmech.networks.builders import from_arrays
from ghostmech.networks.readouts import READOUTS
from ghostmech.networks.rnn import RateRNN

__all__ = ["to_npz", "from_npz", "FORMAT"]

FORMAT = "ghostmech.rate_rnn/1"
_NET_ARRAYS = ("m", "nT", "w", "w_in", "b", "r0")
_READOUT_ARRAYS = ("w_out", "b_out", "beta", "theta", "c")


def _readout_name(net: RateRNN) -> str:
    return next(k for k, cls in READOUTS.items() if type(net.readout) is cls)


def to_npz(net: RateRNN, path: str | Path) -> Path:
    """Write ``net`` to ``path`` (numpy ``.npz``, no pickles). Returns the path."""
    arrays = {f: np.asarray(getattr(net, f)) for f in _NET_ARRAYS if getattr(net, f) is not None}
    for f in _READOUT_ARRAYS:
        if hasattr(net.readout, f):
            arrays[f] = np.asarray(getattr(net.readout, f))
    meta = {
        "format": FORMAT,
        "readout": _readout_name(net),
        "activation": getattr(net.readout, "activation", None),
        "alpha": net.alpha,
        "noise_std": float(net.noise_std),
        "noise_scaling": net.noise_scaling,
        "read": net.read,
        "frozen": list(net.frozen),
    }
    path = Path(path)
    with path.open("wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
    return path


def from_npz(path: str | Path) -> RateRNN:
    """Read a network written by `to_npz` (or by any tool following the layout above)."""
    with np.load(Path(path), allow_pickle=False) as data:
        if "meta" not in data:
            raise ValueError(f"`path` (={str(path)!r}) has no 'meta' entry; not a {FORMAT} file")
        meta = json.loads(str(data["meta"]))
        arrays = {k: data[k] for k in data.files if k != "meta"}
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"`path` (={str(path)!r}) has format {meta.get('format')!r}; expected {FORMAT!r}"
        )
    return from_arrays(
        **arrays,
        readout=meta["readout"],
        activation=meta["activation"],
        alpha=meta["alpha"],
        noise_std=meta["noise_std"],
        noise_scaling=meta["noise_scaling"],
        read=meta["read"],
        frozen=tuple(meta["frozen"]),
    )
