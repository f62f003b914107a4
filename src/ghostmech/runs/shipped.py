"""The configs shipped inside the package (``runs/configs/NAME.{quick,full}.toml``)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

__all__ = ["shipped_configs", "resolve_config"]


def _folder() -> Path:
    return Path(str(resources.files("ghostmech.runs") / "configs"))


def _natural(path: Path) -> list[str | int]:
    """Sort key that orders numbers by value: ``fig9_T4`` before ``fig9_T10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def shipped_configs() -> dict[str, dict[str, Path]]:
    """``{name: {"quick": path, "full": path}}`` for every shipped config, in natural order."""
    out: dict[str, dict[str, Path]] = {}
    for path in sorted(_folder().glob("*.toml"), key=_natural):
        name, _, variant = path.stem.rpartition(".")
        out.setdefault(name, {})[variant] = path
    return out


def resolve_config(name_or_path: str | Path, *, quick: bool = False) -> Path:
    """A path to a TOML file as is, or a shipped name (``fig6a_rank1``) -> its quick/full file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        return path
    shipped = shipped_configs()
    if str(name_or_path) not in shipped:
        raise ValueError(
            f"config (={str(name_or_path)!r}) is neither a .toml file nor a shipped config; "
            f"shipped: {', '.join(shipped)}"
        )
    return shipped[str(name_or_path)]["quick" if quick else "full"]
