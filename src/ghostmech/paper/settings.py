"""Experiment sizes of the paper figures, read from the shipped configs (one source).

A figure that trains RNNs reads its sizes from its shipped config
(`ghostmech.runs.shipped`, ``runs/configs/NAME.{quick,full}.toml``): its
``--quick`` run uses the quick variant, its ``--full`` run the full one, so what
``ghostmech sweep NAME --quick/--full`` trains is what ``ghostmech reproduce FIG
--quick/--full`` trains. Each such module has ``CONFIG`` (the config's name) and
``sizes(quick)``; the quick sizes' power calculations sit next to the values in
the quick TOML and in the module docstring.
"""

from __future__ import annotations

from typing import Any

from ghostmech.runs import load_config, resolve_config, resolve_grid

__all__ = [
    "shipped",
    "lr_logspace",
    "axis_logspace",
    "n_seeds",
    "delay_steps",
    "phase_epoch",
    "trial_repeats",
]


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


def axis_logspace(config: Any, name: str) -> tuple[float, float, int]:
    """``(start, stop, num)`` of the log-spaced named grid axis ``grid.axes.NAME``."""
    ax = config.grid.axes.get(name)
    if not all(hasattr(ax, a) for a in ("start", "stop", "num")):
        raise ValueError(f"config {config.name!r}: grid.axes.{name} (={ax!r}) is not a log range")
    return float(ax.start), float(ax.stop), int(ax.num)


def phase_epoch(config: Any) -> int:
    """The epoch of the config's one intervention (the end of a two-phase run's phase 1)."""
    epochs = sorted({iv.epoch for iv in config.interventions})
    if len(epochs) != 1:
        raise ValueError(f"config {config.name!r}: needs interventions at one epoch (got {epochs})")
    return int(epochs[0])


def trial_repeats(config: Any) -> int:
    """Trials per type of a ``task.batch = {repeat = n}`` config (``"all"``: 1)."""
    batch = config.task.batch
    if batch == "all":
        return 1
    if not hasattr(batch, "repeat"):
        raise ValueError(f"config {config.name!r}: task.batch (={batch!r}) is not {{repeat = n}}")
    return int(batch.repeat)
