"""Network settings of each docs/model.md §4 experiment, by name (``PRESETS["fig3a"]``).

A preset fixes the architecture choices (rank, initialisers, readout, α, noise,
read convention, frozen fields) and suggests task timings (ms, Δt = 5 ms);
learning rates and epochs belong to the experiment configs.

Choices the paper leaves open, made here (override any with ``make_preset(...,
**overrides)``):

* frozen: r0 is never trained; the Eq. 36 readout's β and κ_θ are fixed; in DA
  (no input) ``w_in`` is frozen. Everything else (m, nT or w, b, w_in, w_out,
  b_out) trains.
* full-rank W "Xavier" is Xavier-uniform (as W_in, w_out); full-rank b_out is the
  PyTorch ``nn.Linear`` default U(±1/√N); Fig. 6 full-rank / rank sweep readouts
  start from w_out Xavier-uniform, b_out = 0.
* fig4_dcd_strong_input (NOT docs/model.md §4, the setting Fig. 4A–D uses): as fig4_dcd but
  W_in ~ U(−1, 1), PyTorch's ``nn.Linear`` default for one input (the paper: Xavier-uniform,
  U(±0.24) at N = 100). With the paper's W_in the cue's imprint on κ is small, the
  readout settles on z ≡ 0 and the few escapes fall back at a gradient spike: 0 of 16
  seeds end below the plateau in 30,000 epochs of SGD 1e-3, against 6 of 16 with this
  W_in (docs/reproduction.md, "Fig. 4").
* read: "after" for DA and rank-2 runs, "before" for full-rank DCD/DMTS (docs/model.md §5).
* fig8c uses Eq. 40 from the start with c trainable (the "free" phase); the
  experiment then sets c and adds ``"readout.c"`` to the frozen paths
  (`fix_confidence` converts an Eq. 38 network instead). fig8b lowers β with
  ``eqx.tree_at(lambda n: n.readout.beta, net, jnp.asarray(beta))``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["Preset", "PRESETS"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """Keyword arguments of `make_network` for one experiment, plus task timings."""

    rank: int | str
    readout: str
    init: Mapping[str, Any]
    readout_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    alpha: float = 0.5
    noise_std: float = 0.0
    noise_scaling: str = "paper"
    read: str = "after"
    frozen: tuple[str, ...] = ("r0",)
    n: int = 100
    task: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def network_kwargs(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("task")
        return d


_DA_TASK = {"name": "da", "dt_ms": 5.0, "delay": 100.0, "response": 100.0}
_RANK1_DA = Preset(
    rank=1,
    readout="threshold",
    readout_kwargs={"beta": 10.0, "theta": 1.0},
    init={
        "m": "normal_inv_n",
        "nT": "normal_inv_n",
        "b": "zeros",
        "r0": {"name": "constant", "value": -0.3},
    },
    frozen=("r0", "w_in", "readout"),
    task=_DA_TASK,
)
_RANK2 = {
    "m": {"name": "normal", "std": 1.0},
    "nT": "normal_inv_n",
    "b": {"name": "normal", "std": 0.1},
    "w_in": "xavier_uniform",
    "w_out": "xavier_uniform",
    "b_out": {"name": "uniform", "low": -1 / math.sqrt(2), "high": 1 / math.sqrt(2)},
    "r0": {"name": "tanh_normal", "std": 0.3},
}
_RANK2_STRONG_INPUT = {**_RANK2, "w_in": {"name": "uniform", "low": -1.0, "high": 1.0}}
_FULL = {
    "w": "xavier_uniform",
    "b": {"name": "uniform", "low": -1.0, "high": 1.0},
    "w_in": "xavier_uniform",
    "w_out": "xavier_uniform",
    "b_out": "uniform_inv_sqrt_fan",
    "r0": {"name": "tanh_normal", "std": 0.1},
}
_SIG = {"activation": "sigmoid"}
_TANH = {"activation": "tanh"}


def _task(name: str, input: float, delay: float, response: float) -> dict[str, Any]:
    return {"name": name, "dt_ms": 5.0, "input": input, "delay": delay, "response": response}


PRESETS: dict[str, Preset] = {
    "fig3a": _RANK1_DA,
    "fig3b": _RANK1_DA,
    "fig6a_rank1": _RANK1_DA,
    "fig8b": _RANK1_DA,
    "fig4_dcd": Preset(2, "latent", _RANK2, _TANH, task=_task("dcd", 10, 50, 50)),
    "fig4_dmts": Preset(2, "latent", _RANK2, _SIG, noise_std=1e-2, task=_task("dmts", 30, 80, 50)),
    "fig4_dcd_strong_input": Preset(
        2, "latent", _RANK2_STRONG_INPUT, _TANH, task=_task("dcd", 10, 50, 50)
    ),
    "fig5_dcd": Preset(
        "full", "linear", _FULL, _TANH, noise_std=1e-2, read="before", task=_task("dcd", 10, 50, 50)
    ),
    "fig5_dmts": Preset(
        "full",
        "linear",
        _FULL,
        _SIG,
        noise_std=1e-2,
        read="before",
        task=_task("dmts", 10, 150, 50),
    ),
    "fig6a_full": Preset(
        "full",
        "linear",
        {"w": "normal_inv_n", "b": "zeros", "r0": {"name": "constant", "value": -0.3}},
        _SIG,
        frozen=("r0", "w_in"),
        task=_DA_TASK,
    ),
    "fig6b": Preset(
        1,
        "linear",
        {
            "m": "normal_inv_n",
            "nT": "normal_inv_n",
            "b": "zeros",
            "r0": {"name": "constant", "value": -0.3},
        },
        _SIG,
        frozen=("r0", "w_in"),
        task=_DA_TASK,
    ),
    "fig7_dmts": Preset(
        "full",
        "linear",
        {**_FULL, "r0": "zeros"},
        _SIG,
        read="before",
        task=_task("dmts", 30, 80, 50),
    ),
    "fig7_dcd": Preset(
        "full",
        "linear",
        {**_FULL, "r0": "zeros"},
        _TANH,
        read="before",
        task=_task("dcd", 30, 80, 50),
    ),
    "fig8c": Preset(
        "full",
        "fixed_confidence",
        _FULL,
        {"activation": "tanh", "c": 1.0},
        noise_std=1e-3,
        read="before",
        task=_task("dcd", 10, 50, 50),
    ),
}
