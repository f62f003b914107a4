"""One call for the CLI: points and events of a sequence of checkpoints.

``analyze_snapshots([(epoch, field_or_net), ...], metrics, key=...)`` turns each
network (anything with the RateRNN fields m, nT, w, w_in, b, alpha) into its
vector field (:func:`~ghostmech.dynamics.fields.from_network`, inputs held at
``u``, default 0), samples starts from ``n_trials`` Euler trajectories (dt = 0.5,
every ``every``-th of ``n_steps`` states, x₀ ~ N(0, 0.5²)) of the first
checkpoint's flow plus noise (unless ``starts`` is given), and runs :func:`track`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ghostmech._checks import check_nonnegative, check_positive_int
from ghostmech.dynamics.fields import from_network, sample_starts
from ghostmech.dynamics.points import Points
from ghostmech.dynamics.tracking import Event, track

__all__ = ["Analysis", "analyze_snapshots", "as_field"]


@dataclass(frozen=True, eq=False)
class Analysis:
    """``points_per_epoch``: [(epoch, Points)]; ``events``: [Event]; ``metrics`` as given;
    ``status``: "ok" | "partial" (some checkpoint had no converged point)."""

    points_per_epoch: list[tuple[int, Points]]
    events: list[Event]
    metrics: Mapping | None
    status: str

    def events_json(self) -> list[dict]:
        return [e.to_dict() for e in self.events]


def as_field(obj, u=None, *, latent: bool = False) -> Callable:
    """A RateRNN-like object → its field; a callable field is returned unchanged."""
    if hasattr(obj, "w_in") and hasattr(obj, "b") and hasattr(obj, "alpha"):
        return from_network(obj, u, latent=latent)
    if callable(obj):
        return obj
    raise ValueError(f"`snapshots` item (={type(obj).__name__}) must be a network or a field")


def _dim(obj, latent: bool) -> int:
    if hasattr(obj, "b") and hasattr(obj, "w_in"):
        return int(np.shape(obj.m)[1]) if latent else int(np.shape(obj.b)[0])
    raise ValueError("`starts` must be given when the snapshots are bare fields")


def analyze_snapshots(
    snapshots: Sequence[tuple[int, object]],
    metrics: Mapping | None = None,
    *,
    key: PRNGKeyArray,
    starts=None,
    n_trials: int = 16,
    n_steps: int = 100,
    every: int = 10,
    noise: float = 0.05,
    u=None,
    latent: bool = False,
    **track_kw,
) -> Analysis:
    """Points at every checkpoint and the events between them (see :func:`track`)."""
    if len(snapshots) == 0:
        raise ValueError("`snapshots` (=[]) must hold at least one (epoch, field_or_net)")
    n_trials = check_positive_int("n_trials", n_trials)
    noise = check_nonnegative("noise", noise)
    fields = [(int(e), as_field(obj, u, latent=latent)) for e, obj in snapshots]
    if starts is None:
        f0, obj0 = fields[0][1], snapshots[0][1]
        k1, k2 = jax.random.split(key)
        with jax.enable_x64(True):
            x0 = 0.5 * jax.random.normal(k1, (n_trials, _dim(obj0, latent)))
            starts = np.asarray(
                sample_starts(f0, x0, n_steps=n_steps, every=every, noise=noise, key=k2)
            )
    tr = track(fields, starts, **track_kw)
    return Analysis(list(zip(tr.epochs, tr.points, strict=True)), tr.events, metrics, tr.status)
