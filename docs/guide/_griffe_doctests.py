"""Griffe extension for the API pages: render doctest examples as code blocks.

ghostmech's docstrings hold bare doctest examples (``>>> ...`` and their output),
which Markdown would read as block quotes and reference links (``[1.0, 0.0]``).
This strips Sphinx roles (``:func:`x``` -> ```x```) and wraps every run of doctest lines (up to the next blank line) in a
```` ```pycon ```` fence; docstrings in ``src`` are left untouched.
"""

from __future__ import annotations

import re
from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Return ``text`` with each block of ``>>>`` lines and their output fenced."""
    out: list[str] = []
    in_fence = in_doctest = False
    indent = ""
    for line in text.splitlines():
        stripped = line.strip()
        if in_doctest and (not stripped or line[: len(indent)] != indent):
            out.append(indent + "```")
            in_doctest = False
        if not in_doctest and stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_doctest = True
        out.append(line)
    if in_doctest:
        out.append(indent + "```")
    return "\n".join(out)


SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj|exc):(?=`)")


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every docstring griffe loads."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(SPHINX_ROLE.sub("", obj.docstring.value))
