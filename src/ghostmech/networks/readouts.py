"""Readouts z = g(r, κ) of the rate RNN (docs/model.md §2, Eqs. 36, 38, 40, 48).

Every readout is an ``eqx.Module`` called on ONE state:
``readout(r: [n], kappa: [k] | None) -> z: [n_out]``. Its ``source`` class
attribute says what it reads ("rates" or "latent"); latent readouts need a
low-rank network (κ = Nᵀ r).

Weights follow the PyTorch ``nn.Linear`` layout: ``w_out`` is ``[n_out, n_from]``.
Scalars (β, κ_θ, c) are 0-d arrays (data), so an intervention can swap them
with ``eqx.tree_at`` without recompiling; whether they train is decided by the
network's ``frozen`` paths, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ghostmech._checks import check_one_of

__all__ = [
    "Readout",
    "ThresholdReadout",
    "LinearReadout",
    "LatentReadout",
    "FixedConfidenceReadout",
    "READOUTS",
    "ACTIVATIONS",
]

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
}


def _activation(name: str) -> str:
    return check_one_of("activation", name, ACTIVATIONS)


class Readout(eqx.Module):
    """Base class. ``source`` is "rates" (reads r) or "latent" (reads κ = Nᵀ r)."""

    source: ClassVar[str] = "rates"

    @property
    def n_out(self) -> int:
        raise NotImplementedError

    def __call__(
        self, r: Float[Array, " n"], kappa: Float[Array, " k"] | None
    ) -> Float[Array, " n_out"]:
        raise NotImplementedError


class ThresholdReadout(Readout):
    """Eq. 36: z = σ(β (κ − κ_θ)), elementwise on κ (rank one: one output).

    Paper values β = 10, κ_θ = 1, both fixed; leave ``"readout.beta"`` out of the
    network's ``frozen`` paths for the learnable-β variant.
    """

    beta: Float[Array, ""]
    theta: Float[Array, ""]
    k: int = eqx.field(static=True, default=1)

    source: ClassVar[str] = "latent"

    @property
    def n_out(self) -> int:
        return self.k

    def __call__(self, r, kappa):
        return jax.nn.sigmoid(self.beta * (kappa - self.theta))


class LinearReadout(Readout):
    """Eqs. 38/48: z = φ(w_out r + b_out), φ = sigmoid (DA, DMTS) or tanh (DCD)."""

    w_out: Float[Array, "n_out n"]
    b_out: Float[Array, " n_out"]
    activation: str = eqx.field(static=True, default="sigmoid")

    def __check_init__(self):
        _activation(self.activation)

    @property
    def n_out(self) -> int:
        return self.w_out.shape[0]

    def __call__(self, r, kappa):
        return ACTIVATIONS[self.activation](self.w_out @ r + self.b_out)


class LatentReadout(Readout):
    """Rank-K latent readout (Fig. 4): z = φ(w_out κ + b_out), κ = Nᵀ r."""

    w_out: Float[Array, "n_out k"]
    b_out: Float[Array, " n_out"]
    activation: str = eqx.field(static=True, default="tanh")

    source: ClassVar[str] = "latent"

    def __check_init__(self):
        _activation(self.activation)

    @property
    def n_out(self) -> int:
        return self.w_out.shape[0]

    def __call__(self, r, kappa):
        return ACTIVATIONS[self.activation](self.w_out @ kappa + self.b_out)


class FixedConfidenceReadout(Readout):
    """Eq. 40: z = φ(c (w_out r + b_out) / ‖w_out‖₁), one L1 norm per output row.

    Rescaling ``w_out`` and ``b_out`` together leaves z unchanged, so the
    confidence is fixed by ``c`` alone. φ = tanh in the paper (Fig. 8C).
    """

    w_out: Float[Array, "n_out n"]
    b_out: Float[Array, " n_out"]
    c: Float[Array, ""]
    activation: str = eqx.field(static=True, default="tanh")

    def __check_init__(self):
        _activation(self.activation)

    @property
    def n_out(self) -> int:
        return self.w_out.shape[0]

    def __call__(self, r, kappa):
        l1 = jnp.sum(jnp.abs(self.w_out), axis=1)
        return ACTIVATIONS[self.activation](self.c * (self.w_out @ r + self.b_out) / l1)


READOUTS: dict[str, type[Readout]] = {
    "threshold": ThresholdReadout,
    "linear": LinearReadout,
    "latent": LatentReadout,
    "fixed_confidence": FixedConfidenceReadout,
}
