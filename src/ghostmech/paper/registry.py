"""Figure registry: name -> module with ``run(quick, out, *, key) -> FigureResult``.

Figures register themselves by existing: every module ``ghostmech.paper.figN``
or ``figN<letter>`` (e.g. ``fig1``, ``fig8a``) is found by name, so a new
figure needs no edit here. :func:`register` adds a figure from elsewhere.
Names resolve as follows:

* ``"all"`` -> every registered figure, in figure order;
* an exact name (``"fig8a"``) -> that figure;
* a figure number with lettered parts only (``"fig8"`` when ``fig8a``,
  ``fig8b`` ... exist) -> all its parts.

Example::

    >>> "fig1" in available()
    True
    >>> resolve(["fig1"])
    ['fig1']
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["available", "register", "resolve", "load", "FIGURE_NAME"]

FIGURE_NAME = re.compile(r"^fig(\d+)([a-z]?)$")

# Results beyond the paper, under figure numbers the paper does not use.
_EXTRA: dict[str, str] = {
    "fig9": "ghostmech.paper.critical_delay",  # empirical critical lr vs delay T (rank 1, DA)
}


def _order(name: str) -> tuple[int, str]:
    m = FIGURE_NAME.match(name)
    return (int(m.group(1)), m.group(2)) if m else (10**6, name)


def _number_only(name: str) -> str:
    """``"8"`` for ``"fig8"``/``"fig8a"``; ``""`` for anything else."""
    m = FIGURE_NAME.match(name)
    return m.group(1) if m else ""


def available() -> list[str]:
    """Names of every registered figure, in figure order."""
    import ghostmech.paper as pkg

    found = {
        info.name for info in pkgutil.iter_modules(pkg.__path__) if FIGURE_NAME.match(info.name)
    }
    return sorted(found | set(_EXTRA), key=_order)


def register(name: str, module: str) -> None:
    """Register figure ``name`` as importable module path ``module``."""
    if not FIGURE_NAME.match(name):
        raise ValueError(f"`name` (={name!r}) must look like 'fig3' or 'fig8b'")
    _EXTRA[name] = module


def resolve(names: Iterable[str]) -> list[str]:
    """Expand ``names`` ("all", exact names, figure numbers) to registered figures.

    Raises ``ValueError`` naming the unknown figure and listing the allowed ones.
    """
    known = available()
    chosen: list[str] = []
    for name in names:
        if name == "all":
            parts = known
        elif name in known:
            parts = [name]
        else:
            number = _number_only(name) if name[-1:].isdigit() else ""
            parts = [k for k in known if number and _number_only(k) == number]
        if not parts:
            allowed = ", ".join(["all", *known])
            raise ValueError(f"`figure` (={name!r}) is not a registered figure; allowed: {allowed}")
        chosen.extend(p for p in parts if p not in chosen)
    if not chosen:
        raise ValueError("`figure` is empty; name at least one figure or 'all'")
    return chosen


def load(name: str) -> ModuleType:
    """Import the module of registered figure ``name``."""
    return importlib.import_module(_EXTRA.get(name, f"ghostmech.paper.{name}"))


def runner(name: str) -> Callable[..., Any]:
    """The ``run(quick, out, *, key)`` function of figure ``name``."""
    return load(name).run


def figure_dir(out: Path, name: str) -> Path:
    """``out/<name>``, created."""
    path = Path(out) / name
    path.mkdir(parents=True, exist_ok=True)
    return path
