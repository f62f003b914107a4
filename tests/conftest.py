"""Shared pytest setup: headless matplotlib, CPU JAX, hypothesis profile for CI."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from hypothesis import HealthCheck, settings  # noqa: E402

import ghostmech  # noqa: E402, F401 - first, so every test computes on one-thread matmuls

# In CI (CI=true) the examples are derandomized so a run is reproducible; locally
# each run draws new examples and keeps looking for new failures.
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("ci")
