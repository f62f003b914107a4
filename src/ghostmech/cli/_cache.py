"""The JAX persistent compilation cache of the command line (on by default).

Every ``ghostmech`` command compiles the same training programs again; with the
cache, a repeated command (and each worker process of a sweep, which inherits
the environment) loads them from disk instead. The cache lives in
``$XDG_CACHE_HOME/ghostmech/jax`` (default ``~/.cache/ghostmech/jax``).

Turn it off with ``GHOSTMECH_JAX_CACHE=0``; a ``JAX_COMPILATION_CACHE_DIR`` already
set is used as it is. A cached program is the compiled program itself: the
numbers do not change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "enable_compilation_cache"]

OFF = ("0", "false", "no", "off")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ghostmech/jax``, else ``~/.cache/ghostmech/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ghostmech" / "jax"


def enable_compilation_cache() -> str | None:
    """Point JAX (and the processes this one spawns) at the cache; return its directory
    (None when turned off)."""
    if os.environ.get("GHOSTMECH_JAX_CACHE", "1").strip().lower() in OFF:
        return None
    path = os.environ.get("JAX_COMPILATION_CACHE_DIR") or str(cache_dir())
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable home: run without the cache
        return None
    os.environ["JAX_COMPILATION_CACHE_DIR"] = path
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
    if "jax" in sys.modules:  # imported already (e.g. main() called from Python)
        import jax

        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update(
            "jax_persistent_cache_min_compile_time_secs",
            float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]),
        )
    return path
