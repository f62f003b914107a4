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

__all__ = [
    "RunProgress",
    "run_progress",
    "resume_command",
    "network_epochs_by_part",
    "finished_parts",
]


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


def network_epochs_by_part(run: store.Run) -> dict[str, tuple[int, int]]:
    """``{part: (done, total)}`` network-epochs of a blocked run, running blocks included.

    A finished block counts all ``training.epochs``; a block still running counts
    the epochs it has on disk (``block_NNNN.epoch``), those a resume keeps. The
    part is the rank (``"1"``, ``"100"``) or ``"None"`` for a run without parts.
    """
    from ghostmech.runs import partition as P

    path = Path(run.path)
    epochs = run.config.training.epochs
    plan = P.Partition.from_json((path / "partition.json").read_text())
    out: dict[str, tuple[int, int]] = {}
    for block in plan.blocks():
        done = epochs if P.read_marker(path, block) is not None else P.read_epoch(path, block)
        have, total = out.get(str(block.part), (0, 0))
        n = len(block.indices)
        out[str(block.part)] = (have + min(done, epochs) * n, total + epochs * n)
    return out


def finished_parts(run: store.Run) -> list[str]:
    """The parts (ranks as text, ``"None"`` without parts) of a blocked run whose every
    block has its done-marker, i.e. whose metrics are all written; every part of a
    finished run. A block that trained all its epochs but has no marker is not finished."""
    from ghostmech.runs import partition as P

    path = Path(run.path)
    plan = P.Partition.from_json((path / "partition.json").read_text())
    if run.status == "finished":
        return [str(p) for p in plan.parts]
    missing = {str(b.part) for b in plan.blocks() if P.read_marker(path, b) is None}
    return [str(p) for p in plan.parts if str(p) not in missing]
