"""Canonical-model tests compute in float64 (the model's ε ~ 1e-4, η ~ 1e-10)."""

from __future__ import annotations

import jax
import pytest


@pytest.fixture(autouse=True, scope="module")
def _x64():
    with jax.enable_x64(True):
        yield
