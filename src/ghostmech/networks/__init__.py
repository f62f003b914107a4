"""ghostmech.networks: rank-K and full-rank rate RNNs, readouts, initialisers, latent systems.

* `RateRNN` (Eq. 47), one trial per call; `run_batch` vmaps it over a batch.
* Readouts (`READOUTS`): threshold (Eq. 36), linear (Eqs. 38/48), latent (rank-2,
  Fig. 4), fixed_confidence (Eq. 40).
* `make_network` (named initialisers, `INITIALISERS`), `PRESETS` / `make_preset`
  (docs/model.md §4 experiments), `from_arrays`, `to_npz` / `from_npz`.
* `latent_flow`, `latent_map`, `latent_trajectory`: exact κ = Nᵀ r dynamics.
* `trainable_filter(net)`: bools for ``eqx.partition`` honouring ``net.frozen``.
"""

from __future__ import annotations

from ghostmech.networks.builders import fix_confidence, from_arrays
from ghostmech.networks.initialisers import INITIALISERS
from ghostmech.networks.io import from_npz, to_npz
from ghostmech.networks.latent import latent_flow, latent_map, latent_trajectory
from ghostmech.networks.make import DEFAULT_INIT, FIELDS, make_network, make_preset
from ghostmech.networks.presets import PRESETS, Preset
from ghostmech.networks.readouts import (
    ACTIVATIONS,
    READOUTS,
    FixedConfidenceReadout,
    LatentReadout,
    LinearReadout,
    Readout,
    ThresholdReadout,
)
from ghostmech.networks.rnn import RateRNN, leaf_paths, run_batch, trainable_filter

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_INIT",
    "FIELDS",
    "INITIALISERS",
    "PRESETS",
    "READOUTS",
    "FixedConfidenceReadout",
    "LatentReadout",
    "LinearReadout",
    "Preset",
    "RateRNN",
    "Readout",
    "ThresholdReadout",
    "fix_confidence",
    "from_arrays",
    "from_npz",
    "latent_flow",
    "latent_map",
    "latent_trajectory",
    "leaf_paths",
    "make_network",
    "make_preset",
    "run_batch",
    "to_npz",
    "trainable_filter",
]
