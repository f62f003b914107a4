"""Networks trained elsewhere: plain ``.npz`` weights and PyTorch state dicts → `RateRNN`.

Every loader returns the rate network of Eq. 47 of arXiv 2501.02378 (docs/theory.md),

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

Whole-model state dicts (``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``, ``readout.weight`` …)
are read by the nn.RNN rule whatever the prefix: the biases are summed and the readout
is the one ``Linear`` whose weight is ``[n_out, n]``. LSTM, GRU, multi-layer and
bidirectional RNNs are refused with what was recognised. A state dict does not record
``nonlinearity``: tanh is assumed.

Nothing is dropped silently: every array of the file that is not used, and every
expected array that is missing (and replaced by zeros), is named in an
`IncompleteImportWarning` (the CLI prints it as one ``warning:`` line). The file's
kind (numpy ``.npz`` or ``torch.save``) is read from its first bytes, not its name,
and ``fmt="auto"`` gives exactly what the format it detects gives when named.

``torch`` is optional: it is imported only to read ``.pt`` files or to convert
tensors, and a missing install raises an ``ImportError`` that says how to get it.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
import warnings
import zipfile
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
    "IncompleteImportWarning",
    "Imported",
    "load_network",
    "read_network",
    "from_plain_npz",
    "to_plain_npz",
    "from_torch_rnn",
    "to_torch_rnn_state_dict",
    "from_state_dict",
    "load_torch",
    "file_kind",
]

FORMATS = ("auto", "npz", "torch-rnn", "torch-state-dict")

#: candidate state-dict / npz keys of each RateRNN field, first match wins; a dotted
#: alias also matches with any prefix (``model.readout.weight``)
ALIASES: dict[str, tuple[str, ...]] = {
    "w": ("W", "w", "W_rec", "w_rec", "J", "weight_hh", "recurrent.weight", "W_hh"),
    "m": ("m", "M"),
    "nT": ("nT", "n", "N"),
    "w_in": ("W_in", "w_in", "weight_ih", "input.weight", "W_ih"),
    "b": ("b", "bias", "b_rec", "bias_hh", "recurrent.bias"),
    "w_out": ("w_out", "W_out", "readout.weight", "output.weight", "fc.weight", "linear.weight",
              "decoder.weight", "head.weight", "out.weight"),
    "b_out": ("b_out", "readout.bias", "output.bias", "fc.bias", "linear.bias", "decoder.bias",
              "head.bias", "out.bias"),
    "r0": ("r0", "h0", "x0"),
}  # fmt: skip
#: arrays that are not weights (read for α, or the ghostmech header)
_META = ("alpha", "α", "meta")
#: arrays whose absence is worth a warning (the others default to zeros silently: r0, b_out
#: without w_out)
_EXPECTED = ("b", "w_in", "w_out")
_RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")

_TORCH_HINT = "install it with `pip install torch==2.13.0` (the `bench` extra of ghostmech)"


class IncompleteImportWarning(UserWarning):
    """An imported file had arrays that were not used, or lacked expected ones (zeros used)."""


@dataclasses.dataclass(frozen=True)
class Imported:
    """A network read from a file, with what was read from where.

    ``layout``: "ghostmech" | "nn.RNN" | "named"; ``keys``: field → the key(s) it came
    from; ``unused``: keys not used; ``defaulted``: fields set to zeros (missing).
    """

    net: RateRNN
    layout: str
    keys: dict[str, str]
    unused: tuple[str, ...]
    defaulted: tuple[str, ...]

    def warnings(self, source: str) -> list[str]:
        """The warning lines for ``source`` (empty when every array was used and found)."""
        out = []
        if self.unused:
            out.append(f"{source}: ignored arrays that are not part of the rate network: "
                       f"{', '.join(self.unused)}")  # fmt: skip
        for field in self.defaulted:
            if field not in _DESCRIBE:  # one nn.RNN bias of the two
                out.append(f"{source}: no {field} found; b is the other bias alone")
                continue
            out.append(f"{source}: no {_DESCRIBE[field]} found (looked for {_looked(field, self.layout)}); "
                       f"using {field} = 0")  # fmt: skip
        return out


_DESCRIBE = {"b": "bias", "w_in": "input weights", "w_out": "readout weights",
             "b_out": "readout bias"}  # fmt: skip


def _looked(field: str, layout: str) -> str:
    if layout == "nn.RNN":
        return {"b": "bias_ih_l0, bias_hh_l0", "w_in": "weight_ih_l0",
                "w_out": "one Linear of shape [n_out, n]", "b_out": "the readout's bias"}[field]  # fmt: skip
    return ", ".join(ALIASES[field])


def _numpy(value: Any) -> np.ndarray:
    """A numpy float64 copy of an array or a torch tensor (detached, on the CPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _num(arrays: Mapping[str, Any], key: str, source: str) -> np.ndarray:
    """``arrays[key]`` as float64; an error naming the key if it is not numeric."""
    try:
        return _numpy(arrays[key])
    except (TypeError, ValueError):
        kind = getattr(arrays[key], "dtype", type(arrays[key]).__name__)
        raise ValueError(f"{source}: array {key!r} is not numeric ({kind})") from None


def file_kind(path: str | Path) -> str:
    """``"npz"`` or ``"torch"``, from the file's first bytes (not its name); else raise."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile as err:
            raise ValueError(f"{str(path)!r} is a damaged zip archive ({err})") from None
        if all(n.endswith(".npy") for n in names):
            return "npz"
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        raise ValueError(f"{str(path)!r} is a zip archive but neither a numpy .npz nor a "
                         f"torch.save file (it holds {', '.join(names[:4])} ...)")  # fmt: skip
    if head[:1] == b"\x80":  # a pickle: torch.save's legacy format
        return "torch"
    raise ValueError(
        f"{str(path)!r} is neither a numpy .npz archive nor a torch.save file (it starts with "
        f"{head!r}); import reads network weights: .npz (W, b, W_in, w_out, alpha) or a "
        "torch state dict"
    )


def load_torch(path: str | Path) -> dict[str, np.ndarray]:
    """Read a state dict saved with ``torch.save`` (``weights_only``: no code runs)."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"reading {str(path)!r} needs PyTorch; {_TORCH_HINT}") from err
    try:
        obj = torch.load(Path(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():
            raise ValueError(
                f"{str(path)!r} holds a pickled Python object (e.g. torch.save(model)), which "
                "cannot be read without running its code: save the state dict instead, "
                "torch.save(model.state_dict(), FILE)"
            ) from None
        raise ValueError(f"{str(path)!r} is not a readable torch.save file ({err})") from None
    except Exception as err:  # garbage makes the unpickler raise anything (EOF, Index...)
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(f"{str(path)!r} is not a readable torch.save file "
                         f"({type(err).__name__}{': ' + first if first else ''})") from None  # fmt: skip
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise ValueError(f"`path` (={str(path)!r}) holds a {type(obj).__name__}, not a state dict")
    bad = [k for k, v in obj.items() if not (hasattr(v, "detach") or isinstance(v, np.ndarray))]
    if bad:
        raise ValueError(f"{str(path)!r} is not a flat state dict of tensors: entry {bad[0]!r} "
                         f"is a {type(obj[bad[0]]).__name__}")  # fmt: skip
    return {str(k): _numpy(v) for k, v in obj.items()}


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except ValueError as err:
        if "pickle" in str(err):
            raise ValueError(f"{str(path)!r} holds Python objects, not numeric arrays; only "
                             "numeric arrays are read (nothing is unpickled)") from None  # fmt: skip
        raise ValueError(f"{str(path)!r} is not a readable .npz archive ({err})") from None
    except Exception as err:  # a damaged archive: zipfile / EOF / header errors
        raise ValueError(f"{str(path)!r} is not a readable .npz archive "
                         f"({type(err).__name__}: {err})") from None  # fmt: skip


def _match(arrays: Mapping[str, Any], alias: str, taken: set[str]) -> list[str]:
    if alias in arrays and alias not in taken:
        return [alias]
    if "." not in alias:
        return []
    return [k for k in arrays if k.endswith("." + alias) and k not in taken]


def _pick(arrays: Mapping[str, Any], field: str, names: Mapping[str, str],
          taken: set[str]) -> str | None:  # fmt: skip
    """The key of ``field`` in ``arrays``: ``names[field]``, else the first alias found."""
    if field in names:
        if names[field] not in arrays:
            raise ValueError(f"`names[{field!r}]` (={names[field]!r}) is not a key; keys: "
                             f"{sorted(arrays)}")  # fmt: skip
        return names[field]
    for alias in ALIASES[field]:
        hits = _match(arrays, alias, taken)
        if len(hits) > 1:
            raise ValueError(f"several arrays could be {field}: {', '.join(hits)}; name one "
                             f"(names={{{field!r}: KEY}}, or --key {field}=KEY)")  # fmt: skip
        if hits:
            return hits[0]
    return None


def _shape_error(field: str, key: str, source: str, shape, want: str) -> ValueError:
    return ValueError(
        f"{source}: array {key!r} ({field}) has shape {tuple(shape)}; expected {want}"
    )


def _assemble(arrays: Mapping[str, Any], keys: dict[str, str], *, source: str, alpha: float,
              activation: str | None, read: str, b: np.ndarray | None = None) -> RateRNN:  # fmt: skip
    """Build the `RateRNN` from ``arrays[keys[field]]`` (``b`` given: a summed bias)."""
    get = {f: _num(arrays, k, source) for f, k in keys.items() if f != "b" or b is None}
    if b is not None:
        get["b"] = b
    w, m = get.get("w"), get.get("m")
    if w is None and m is None:
        raise ValueError(f"{source}: no recurrent weights found; give one of "
                         f"{', '.join(ALIASES['w'])} (or m and nT), or name it (--key w=KEY)")  # fmt: skip
    if w is not None:
        if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] == 0:
            raise _shape_error("W", keys["w"], source, w.shape, "[n, n] (square, n >= 1)")
        n = w.shape[0]
    else:
        if m.ndim not in (1, 2) or m.size == 0:
            raise _shape_error("m", keys["m"], source, m.shape, "[n, K] (n, K >= 1)")
        m = m.reshape(m.shape[0], -1)
        n = m.shape[0]
        if "nT" not in get:
            raise ValueError(f"{source}: low-rank weights {keys['m']!r} (m) need nT as well")
        nT = get["nT"]
        if nT.ndim not in (1, 2) or nT.reshape(nT.shape[0], -1).shape != m.shape:
            raise _shape_error("nT", keys["nT"], source, nT.shape, f"{m.shape} like m")
    where = f"(n = {n} from {keys.get('w', keys.get('m'))!r})"

    def vector(field: str, size: int, what: str) -> np.ndarray:
        x = get.get(field)
        if x is None:
            return np.zeros(size)
        if x.size != size or (x.ndim > 1 and max(x.shape) != x.size):
            raise _shape_error(field, keys.get(field, field), source, x.shape, f"[{size}] {what}")
        return x.reshape(size)

    w_in = get.get("w_in")
    if w_in is None:
        w_in = np.zeros((n, 1))
    elif w_in.ndim == 1 and w_in.size == n:
        w_in = w_in.reshape(n, 1)
    elif w_in.ndim != 2 or w_in.shape[0] != n:
        raise _shape_error("W_in", keys["w_in"], source, w_in.shape, f"[{n}, n_in] {where}")
    w_out = get.get("w_out")
    if w_out is None:
        w_out = np.zeros((1, n))
    elif w_out.ndim == 1 and w_out.size == n:
        w_out = w_out.reshape(1, n)
    elif w_out.ndim != 2 or w_out.shape[1] != n:
        raise _shape_error("w_out", keys["w_out"], source, w_out.shape, f"[n_out, {n}] {where}")
    net_arrays = {"w": w} if w is not None else {"m": m, "nT": get["nT"].reshape(m.shape)}
    return from_arrays(
        **net_arrays, w_in=w_in, b=vector("b", n, where), r0=vector("r0", n, where),
        w_out=w_out, b_out=vector("b_out", w_out.shape[0], f"(n_out = {w_out.shape[0]})"),
        readout="linear", activation=activation, alpha=alpha, read=read,
    )  # fmt: skip


def _alpha(alpha, stored) -> float:
    if alpha is None and stored is None:
        raise ValueError("`alpha` (=None) must be given (α = Δt/τ in (0, 1]): the file has none")
    return check_positive("alpha", float(alpha if alpha is not None else stored))


def _rnn_prefix(arrays: Mapping[str, Any], source: str) -> str | None:
    """The prefix of an nn.RNN's keys (``""``, ``"rnn."``, ...), None if there are none;
    LSTM, GRU, several layers or directions are refused."""
    prefixes = sorted({k[: -len("weight_hh_l0")] for k in arrays if k.endswith("weight_hh_l0")})
    if not prefixes:
        return None
    if len(prefixes) > 1:
        raise ValueError(f"{source}: several recurrent modules ({', '.join(p + 'weight_hh_l0' for p in prefixes)}); "
                         "import reads one: save that module's state dict alone")  # fmt: skip
    p = prefixes[0]
    ok = "one-layer, unidirectional, tanh nn.RNN (or a rate RNN's arrays: W, b, W_in, w_out, alpha)"
    layer = re.compile(re.escape(p) + r"(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$")
    extra = [k for k in arrays if layer.match(k) and k[len(p) :] not in _RNN_KEYS]
    if extra:
        owner = f"recurrent module {p.rstrip('.')!r}" if p else "the state dict"
        raise ValueError(f"{source}: {owner} has {', '.join(sorted(extra)[:4])}: "
                         f"several layers or directions are not supported; supported: {ok}")  # fmt: skip
    w = np.shape(arrays[p + "weight_hh_l0"])
    if len(w) == 2 and w[0] != w[1] and w[1] > 0 and w[0] % w[1] == 0:
        kind = {4: "nn.LSTM", 3: "nn.GRU"}.get(w[0] // w[1], "gated RNN")
        raise ValueError(f"{source}: {p + 'weight_hh_l0'!r} has shape {tuple(w)} = {w[0] // w[1]} gates × "
                         f"{w[1]} units: an {kind}, not supported; supported: {ok}")  # fmt: skip
    return p


def _readout_of(arrays: Mapping[str, Any], n: int, taken: set[str], names: Mapping[str, str],
                source: str) -> dict[str, str]:  # fmt: skip
    """The readout ``Linear`` of a whole-model state dict: the one ``*.weight`` [n_out, n]."""
    if "w_out" in names:
        key = _pick(arrays, "w_out", names, taken)
        bias = names.get(
            "b_out", key[: -len("weight")] + "bias" if key.endswith("weight") else None
        )
        return {"w_out": key} | ({"b_out": bias} if bias in arrays else {})
    cands = [k for k in arrays if k not in taken and (k == "weight" or k.endswith(".weight"))
             and np.ndim(arrays[k]) == 2 and np.shape(arrays[k])[1] == n]  # fmt: skip
    if len(cands) > 1:
        named = [k for k in cands if any(k == a or k.endswith("." + a) for a in ALIASES["w_out"])]
        cands = named if len(named) == 1 else cands
    if len(cands) > 1:
        raise ValueError(f"{source}: several layers could be the readout ({', '.join(cands)}); "
                         "name it (names={'w_out': KEY}, or --key w_out=KEY)")  # fmt: skip
    if not cands:
        return {}
    bias = cands[0][: -len("weight")] + "bias"
    return {"w_out": cands[0]} | ({"b_out": bias} if bias in arrays else {})


def _interpret(arrays: Mapping[str, Any], *, source: str, fmt: str, alpha: float | None,
               names: Mapping[str, str], activation: str | None = None,
               read: str = "after") -> Imported:  # fmt: skip
    """The `Imported` network of ``arrays`` (nn.RNN layout or named arrays; see module doc)."""
    names = dict(names or {})
    unknown = sorted(set(names) - set(ALIASES))
    if unknown:
        raise ValueError(f"`names` key {unknown[0]!r} must be one of: {', '.join(ALIASES)}")
    stored = next((_num(arrays, k, source) for k in ("alpha", "α") if k in arrays), None)
    if stored is not None and stored.size != 1:
        raise ValueError(f"{source}: array 'alpha' must hold one number (α = Δt/τ); it has shape "
                         f"{stored.shape}")  # fmt: skip
    stored = None if stored is None else float(stored.reshape(()))
    prefix = None if "w" in names or "m" in names else _rnn_prefix(arrays, source)
    if fmt == "torch-rnn" and prefix is None:
        raise ValueError(f"{source}: --format torch-rnn needs nn.RNN keys (weight_hh_l0, "
                         f"weight_ih_l0, ...); keys: {', '.join(sorted(arrays)) or 'none'}")  # fmt: skip
    if prefix is not None:
        if alpha is not None and float(alpha) != 1.0:
            raise ValueError(f"`alpha` (={alpha!r}) must be 1 (or omitted) for an nn.RNN")
        keys = {f: prefix + k for f, k in (("w", "weight_hh_l0"), ("w_in", "weight_ih_l0"))
                if prefix + k in arrays}  # fmt: skip
        biases = [prefix + k for k in ("bias_ih_l0", "bias_hh_l0") if prefix + k in arrays]
        w_shape = np.shape(arrays[keys["w"]])
        if len(w_shape) != 2 or w_shape[0] != w_shape[1]:
            raise _shape_error("W", keys["w"], source, w_shape, "[n, n] (square)")
        n = w_shape[0]
        for k in biases:
            if _num(arrays, k, source).size != n:
                raise _shape_error("b", k, source, np.shape(arrays[k]), f"[{n}] (n = {n})")
        b = (
            sum((_num(arrays, k, source).reshape(-1) for k in biases), np.zeros(n))
            if biases
            else None
        )
        taken = {*keys.values(), *biases}
        keys |= _readout_of(arrays, n, taken, names, source)
        if "r0" in names:
            keys["r0"] = _pick(arrays, "r0", names, set())
        net = _assemble(arrays, keys, source=source, alpha=1.0, activation=activation,
                        read="after", b=b)  # fmt: skip
        used = {*keys.values(), *biases}
        defaulted = [f for f in ("w_in", "w_out") if f not in keys]
        if not biases:
            defaulted.insert(0, "b")
        elif len(biases) == 1:  # nn.RNN(bias=True) has both: the other one is missing
            defaulted.insert(0, next(prefix + k for k in ("bias_ih_l0", "bias_hh_l0")
                                     if prefix + k not in biases))  # fmt: skip
        layout = "nn.RNN"
        keys = keys | ({"b": " + ".join(biases)} if biases else {})
    else:
        if "meta" in arrays and FORMAT in str(arrays["meta"]):
            raise ValueError(f"{source}: a ghostmech network file; read it with from_npz")
        keys, taken = {}, set()
        for field in ("w", "m", "nT", "w_out", "b_out", "w_in", "r0", "b"):
            key = _pick(arrays, field, names, taken)
            if key is not None:
                keys[field], taken = key, taken | {key}
        if "w" in keys and "m" in keys:
            raise ValueError(f"{source}: both full ({keys['w']!r}) and low-rank ({keys['m']!r}) "
                             "recurrent weights; name the one to use (--key w=KEY)")  # fmt: skip
        net = _assemble(arrays, keys, source=source, alpha=_alpha(alpha, stored),
                        activation=activation, read=read)  # fmt: skip
        used = set(keys.values())
        defaulted = [f for f in _EXPECTED if f not in keys]
        if "w_out" in keys and "b_out" not in keys:
            defaulted.append("b_out")
        layout = "named"
    unused = tuple(sorted(k for k in arrays if k not in used and k not in _META))
    return Imported(net, layout, keys, unused, tuple(defaulted))


def _warn(imported: Imported, source: str) -> None:
    for line in imported.warnings(source):
        warnings.warn(line, IncompleteImportWarning, stacklevel=3)


def from_plain_npz(path: str | Path, *, alpha: float | None = None,
                   activation: str | None = None, read: str = "after") -> RateRNN:  # fmt: skip
    """Load W, b, W_in, w_out, b_out, r0, alpha from an npz (see module doc)."""
    arrays = _load_npz(Path(path))
    if "meta" in arrays and FORMAT in str(arrays["meta"]):
        return from_npz(path)
    got = _interpret(arrays, source=repr(str(path)), fmt="npz", alpha=alpha, names={},
                     activation=activation, read=read)  # fmt: skip
    _warn(got, repr(str(path)))
    return got.net


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
    arrays = {k: _numpy(v) for k, v in sd.items()}
    ro = {} if readout is None else (readout.state_dict() if hasattr(readout, "state_dict")
                                     else dict(readout))  # fmt: skip
    arrays |= {f"readout.{k}": _numpy(v) for k, v in ro.items()}
    if h0 is not None:
        arrays["h0"] = _numpy(h0).reshape(-1)
    got = _interpret(arrays, source="`rnn`", fmt="torch-rnn", alpha=None,
                     names={"r0": "h0"} if h0 is not None else {}, activation=activation)  # fmt: skip
    if got.unused:
        raise ValueError(f"`readout` has arrays that are not a Linear's: {', '.join(got.unused)}")
    return got.net


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


def from_state_dict(state: Mapping[str, Any], *, alpha: float | None = None,
                    names: Mapping[str, str] | None = None, activation: str | None = None,
                    read: str = "after") -> RateRNN:  # fmt: skip
    """A state dict (tensors or arrays) → `RateRNN`: an nn.RNN's keys with any prefix
    (α = 1, biases summed, the readout ``Linear`` found), else a custom rate RNN's
    (α required). Unused and missing arrays are named in an `IncompleteImportWarning`."""
    got = _interpret(state, source="state dict", fmt="torch-state-dict", alpha=alpha,
                     names=names or {}, activation=activation, read=read)  # fmt: skip
    _warn(got, "state dict")
    return got.net


def read_network(path: str | Path, *, fmt: str = "auto", alpha: float | None = None,
                 names: Mapping[str, str] | None = None) -> Imported:  # fmt: skip
    """Read ``path`` (see `load_network`) and say what was read from where."""
    fmt = check_one_of("fmt", fmt, FORMATS)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`path` (={str(path)!r}) is not a file")
    kind, source = file_kind(path), repr(str(path))
    if fmt == "npz" and kind != "npz":
        raise ValueError(f"--format npz: {source} is a torch.save file, not a numpy .npz; use "
                         "--format torch-rnn, torch-state-dict or auto")  # fmt: skip
    if fmt.startswith("torch") and kind != "torch":
        raise ValueError(f"--format {fmt}: {source} is a numpy .npz archive, not a torch.save "
                         "file; use --format npz or auto")  # fmt: skip
    arrays = _load_npz(path) if kind == "npz" else load_torch(path)
    if "meta" in arrays and FORMAT in str(arrays["meta"]):
        unused = tuple(sorted(set(arrays) - {"meta", "m", "nT", "w", "w_in", "b", "r0", "w_out",
                                             "b_out", "beta", "theta", "c"}))  # fmt: skip
        if alpha is not None:
            raise ValueError(f"`alpha` (={alpha!r}): {source} is a ghostmech network file, "
                             "which stores its α; omit --alpha")  # fmt: skip
        return Imported(from_npz(path), "ghostmech", {}, unused, ())
    return _interpret(arrays, source=source, fmt=fmt, alpha=alpha, names=names or {})


def load_network(path: str | Path, *, fmt: str = "auto", alpha: float | None = None,
                 names: Mapping[str, str] | None = None) -> RateRNN:  # fmt: skip
    """Load ``path``, a numpy ``.npz`` or a ``torch.save`` state dict (told apart by content).

    ``fmt``: ``"auto"`` (detect), ``"npz"``, ``"torch-rnn"`` (an nn.RNN's keys are
    required) or ``"torch-state-dict"``; auto gives what the detected format gives.
    Unused or missing arrays are named in an `IncompleteImportWarning`.
    """
    got = read_network(path, fmt=fmt, alpha=alpha, names=names)
    _warn(got, repr(str(path)))
    return got.net
