"""Load tests/dynamics/zoo.py as the module ``dyn_zoo`` (unique name) and use float64."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import jax
import pytest

_spec = importlib.util.spec_from_file_location("dyn_zoo", Path(__file__).with_name("zoo.py"))
_zoo = importlib.util.module_from_spec(_spec)
sys.modules["dyn_zoo"] = _zoo
_spec.loader.exec_module(_zoo)


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield
