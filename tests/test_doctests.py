"""Run the docstring examples of every ghostmech module (one test per module)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ghostmech

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(ghostmech.__path__, prefix="ghostmech.")
    if ".cli" not in info.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
