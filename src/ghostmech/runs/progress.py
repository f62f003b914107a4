"""How far a run directory got, and the command that finishes it.

A run trained in blocks of networks (``partition.json``, what ``ghostmech train`` /
``sweep`` write) counts the blocks whose done-marker exists; a run trained in one
piece counts the epochs of ``progress.json``. Rerunning ``ghostmech sweep`` on the
run's own ``config.toml`` with ``--out`` the run directory resumes it: the config
is the same, so the directory is recognised as this run's, and the saved
partition fixes the blocks.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from ghostmech.runs import store

__all__ = ["RunProgress", "run_progress", "resume_command"]


@dataclasses.dataclass(frozen=True)
class RunProgress:
    """``done`` of ``total`` ``unit`` ("blocks" or "network-epochs") finished."""

    path: Path
    finished: bool
    done: int
    total: int
    unit: str

    def message(self) -> str:
        """``run incomplete (6/11 blocks done): rerun `ghostmech sweep ...` to finish``."""
        return (
            f"run incomplete ({self.done}/{self.total} {self.unit} done): rerun "
            f"`{resume_command(self.path)}` to finish"
        )


def resume_command(path: str | Path) -> str:
    """The shell command that continues the run in ``path``."""
    path = Path(path)
    return (
        f"ghostmech sweep {shlex.quote(str(path / 'config.toml'))} --out {shlex.quote(str(path))}"
    )


def run_progress(run: store.Run) -> RunProgress:
    """Blocks (or network-epochs) done in the run directory of ``run``."""
    from ghostmech.runs import partition as P

    path = Path(run.path)
    if run.status == "finished":
        return RunProgress(path, True, 1, 1, "runs")
    if (path / "partition.json").is_file():
        plan = P.Partition.from_json((path / "partition.json").read_text())
        blocks = plan.blocks()
        done = sum(P.read_marker(path, b) is not None for b in blocks)
        return RunProgress(path, False, done, len(blocks), "blocks")
    epochs = run.config.training.epochs
    parts = store.read_progress(path)["parts"]
    done = sum(min(int(e), epochs) for e in parts.values()) * run.grid.size
    total = epochs * run.grid.size * len(run.grid.parts)
    return RunProgress(path, False, done, total, "network-epochs")
