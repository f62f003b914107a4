"""Experiment sizes of the paper figures, read from the shipped configs (one source).

A figure's ``--full`` run uses the sizes of its shipped ``*.full.toml`` config
(`ghostmech.runs.shipped`): what ``ghostmech sweep NAME --full`` trains is what
``ghostmech reproduce FIG --full`` trains. (The figures' quick sizes are chosen
for the claims to be testable in CI and stay in the figure modules.)
"""

from __future__ import annotations

from typing import Any

from ghostmech.runs import load_config, resolve_config, resolve_grid

__all__ = ["shipped", "lr_logspace", "n_seeds", "delay_steps"]


def shipped(name: str, *, quick: bool = False) -> Any:
    """The validated `ExperimentConfig` of a shipped config (quick or full variant)."""
    return load_config(resolve_config(name, quick=quick))


def lr_logspace(config: Any) -> tuple[float, float, int]:
    """``(start, stop, num)`` of a log-spaced ``grid.lr`` (log10 exponents)."""
    lr = config.grid.lr
    if not all(hasattr(lr, a) for a in ("start", "stop", "num")):
        raise ValueError(f"config {config.name!r}: grid.lr (={lr!r}) is not a log-spaced range")
    return float(lr.start), float(lr.stop), int(lr.num)


def n_seeds(config: Any) -> int:
    """Seeds of the config's grid."""
    return int(resolve_grid(config).coords["seed"].size)


def delay_steps(config: Any) -> int:
    """The task's delay in Euler steps."""
    return int(config.task.steps()["delay"])
