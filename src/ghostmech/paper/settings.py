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
from ghostmech.runs.factory import make_task, optimizer_hyper, resolve_batch
from ghostmech.training import checkpoint_epochs

__all__ = [
    "shipped",
    "lr_logspace",
    "axis_logspace",
    "n_seeds",
    "delay_steps",
    "phase_epoch",
    "trial_repeats",
    "lr_values",
    "checkpoint_every",
    "checkpoint_list",
    "task_of",
    "batch_of",
    "hyper_of",
    "require_rank1_da",
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


def lr_values(config: Any) -> tuple[float, ...]:
    """The learning rates of the config's grid (``grid.lr``, else ``training.lr``)."""
    return tuple(float(v) for v in resolve_grid(config).coords["lr"])


def checkpoint_every(config: Any) -> int:
    """The spacing of a ``checkpoints.every = k`` config (0, k, 2k, ... and the last epoch)."""
    every = config.checkpoints.every
    if every is None:
        got = config.checkpoints
        raise ValueError(f"config {config.name!r}: needs checkpoints.every (got {got})")
    return int(every)


def checkpoint_list(config: Any) -> tuple[int, ...]:
    """Every checkpoint epoch of the config (`ghostmech.training.checkpoint_epochs`)."""
    return checkpoint_epochs(config.checkpoints.spec(), config.training.epochs)


def task_of(config: Any) -> Any:
    """The config's task, windows in Euler steps (`ghostmech.runs.factory.make_task`)."""
    return make_task(config)


def batch_of(config: Any, task: Any) -> Any:
    """The config's training batch of ``task`` (``"all"``: every trial type once)."""
    return resolve_batch(config, task)


def hyper_of(config: Any) -> dict[str, float]:
    """Optimiser keyword arguments beyond lr: ``clip_norm`` when the config clips."""
    return optimizer_hyper(config)


def require_rank1_da(config: Any) -> None:
    """Raise unless the config trains what the rank-one DA figures train: SGD on DA with
    delay = response (the rank-one kernel, `ghostmech.paper.fig3a.train_checkpointed`)."""
    steps, opt = config.task.steps(), config.training.optimizer
    if config.task.name != "da" or steps["delay"] != steps["response"] or opt != "sgd":
        raise ValueError(f"config {config.name!r}: must train SGD on DA with delay = response "
                         f"(got {config.task.name}, {steps}, {opt})")  # fmt: skip
