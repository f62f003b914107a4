"""Paper reproduction: one module per figure, claims with measured verdicts.

Each figure module (``fig1``, ``fig2``, ``fig8a`` ...) exposes
``run(quick: bool, out: Path, *, key) -> FigureResult``; it writes its panels
(PNG + PDF) under ``out`` and returns one :class:`Claim` per claim of docs/model.md §4
it supports, with the numbers it measured and a verdict computed from them.
:func:`reproduce` runs several figures and records each one as soon as it
finishes (``summary.json`` merged, ``REPRODUCTION.md`` appended), so a later
failure never loses an earlier result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import jax

from ghostmech._checks import check_nonnegative_int
from ghostmech.paper.claims import Claim, FigureResult, record
from ghostmech.paper.registry import available, figure_dir, register, resolve, runner

__all__ = ["Claim", "FigureResult", "available", "register", "reproduce", "resolve"]


def reproduce(
    figures: Iterable[str],
    *,
    quick: bool,
    out: Path,
    seed: int = 0,
    on_done: Callable[[FigureResult], None] | None = None,
) -> list[FigureResult]:
    """Run ``figures`` ("all", names, or figure numbers) and record each result in ``out``.

    Figure ``name`` writes its panels to ``out/name/`` and gets the key
    ``fold_in(PRNGKey(seed), index of name among all registered figures)``, so
    its randomness does not depend on which other figures run with it.
    """
    seed = check_nonnegative_int("seed", seed)
    names = resolve(figures)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    order = available()
    results = []
    for name in names:
        key = jax.random.fold_in(jax.random.PRNGKey(seed), order.index(name))
        start = time.perf_counter()
        res = runner(name)(quick, figure_dir(out, name), key=key)
        res = FigureResult(
            figure=name,
            claims=list(res.claims),
            files=list(res.files),
            quick=quick,
            seed=seed,
            wall_s=time.perf_counter() - start,
        )
        record(out, [res])
        results.append(res)
        if on_done is not None:
            on_done(res)
    return results
