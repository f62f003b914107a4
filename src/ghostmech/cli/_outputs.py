"""Output folders and files of the commands, checked before any work is done.

A command that will write ``--out`` calls :func:`output_dir` / :func:`output_file`
first, so an existing file where a folder is wanted, a path under a file, a
read-only folder or a full disk is one line naming the option, not a traceback
after minutes of computing. The check writes and removes a probe file (a
permission check alone is wrong for root and on read-only mounts).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["output_dir", "output_file"]


def _probe(folder: Path) -> None:
    probe = folder / f".ghostmech-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    probe.write_bytes(b"")
    probe.unlink()


def output_dir(option: str, path: str | Path, *, hint: str = "") -> Path:
    """Create folder ``path`` (and parents) and check it is writable; return it.

    Raises ``ValueError`` naming ``option`` (e.g. ``"--out"``) and the reason.
    """
    path = Path(path)
    hint = f"; {hint}" if hint else ""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} ({str(path)!r}) is an existing file, not a folder{hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        _probe(path)
    except OSError as err:
        reason = err.strerror or str(err)
        raise ValueError(
            f"{option} ({str(path)!r}) is not a writable folder: {reason}{hint}"
        ) from None
    return path


def output_file(option: str, path: str | Path, *, hint: str = "") -> Path:
    """Check that file ``path`` can be written (its folder is created); return it."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} ({str(path)!r}) is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    output_dir(f"{option} folder", parent, hint=hint)
    return path
