"""The ``ghostmech`` command line: thin wrappers that parse, call the library, write outputs.

Each command group lives in its own module (``canonical``, ``reproduce``,
``train``, ``analyze`` ...) and registers itself on :data:`app` via
:func:`_register`. Errors in user input (``ValueError``, pydantic validation,
TOML syntax) become one red line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from ghostmech.cli._app import app, run_guarded
from ghostmech.cli._cache import enable_compilation_cache

# Command modules; each one adds its commands to `app` on import.
_COMMAND_MODULES = ("canonical", "reproduce", "train", "analyze", "report", "external", "critical")


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            importlib.import_module(f"ghostmech.cli.{name}")
        except ModuleNotFoundError as err:  # a command group not written yet
            if err.name != f"ghostmech.cli.{name}":
                raise


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ghostmech`` console script.

    As the script (``argv`` None) it turns the JAX compilation cache on (`_cache`);
    a call from Python with an explicit ``argv`` leaves JAX's settings alone.
    """
    if argv is None:
        enable_compilation_cache()
    _register()
    return run_guarded(app, sys.argv[1:] if argv is None else argv)


__all__ = ["app", "main"]
