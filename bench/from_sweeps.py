"""Figs. 6A and 6B's verdicts from finished sweeps, resumable across sittings (issue 12, item 3).

    ghostmech sweep fig6a_rank1 --full --out runs/fig6a_rank1.full
    ghostmech sweep fig6a_full --full --out runs/fig6a_full.full   # hours; rerun to resume
    python -m bench.from_sweeps fig6a runs/fig6a_rank1.full runs/fig6a_full.full \
        --out docs/results/fig6a/sweeps
    ghostmech sweep fig6b --full --out runs/fig6b.full               # a day; rerun to resume
    python -m bench.from_sweeps fig6b runs/fig6b.full --out docs/results/fig6b/sweeps
    python -m bench.from_sweeps fig6b runs/seeds0-4 runs/seeds5-9 --out ...   # seeds split

``ghostmech reproduce fig6a --full`` (or ``fig6b``) trains its grids in one
process that cannot resume, and they need more CPU time than one sitting. The
sweeps train the same grids (the shipped configs the figures read their sizes
from), resume bit-identically, and `ghostmech.paper.fig6a.run_from_sweeps` /
`ghostmech.paper.fig6b.run_from_sweep` apply the same rules and claims to their
losses. The seeds are the sweeps' grid seeds 0..n−1, not the ones ``reproduce``
draws from its key. Writes the panels, ``summary.json`` and ``REPRODUCTION.md``
to ``--out`` (their ``seed`` field is 0 and means nothing here) and prints the
claims. ``--partial`` (fig6b): the verdicts as soon as ranks 1 and 100 are finished
(``ghostmech sweep fig6b --full --first 100``); the panels then show the finished ranks.
Fig. 6B also takes several runs that split the seeds between them (same config but for
``grid.seed``, no seed twice), e.g. seeds 0–4 in one sitting and 5–9 in the next.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from ghostmech.paper import fig6a, fig6b
from ghostmech.paper.claims import record
from ghostmech.runs import open_run

RUNS = {"fig6a": ("rank-one run (fig6a_rank1)", "full-rank run (fig6a_full)"), "fig6b": ("run",)}
SPLIT = {"fig6b"}  # figures whose seeds may be split over several runs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("figure", choices=sorted(RUNS))
    ap.add_argument("runs", type=Path, nargs="+", help="finished run directories, in order")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--partial", action="store_true",
                    help="fig6b: an unfinished run whose smallest and largest ranks are finished")  # fmt: skip
    a = ap.parse_args(argv)
    if len(a.runs) != len(RUNS[a.figure]) and a.figure not in SPLIT:
        ap.error(f"`runs`: {a.figure} needs {len(RUNS[a.figure])}: " + ", ".join(RUNS[a.figure]))
    runs = [open_run(r) for r in a.runs]
    a.out.mkdir(parents=True, exist_ok=True)
    try:
        if a.figure == "fig6a":
            result = fig6a.run_from_sweeps(*runs, a.out)
        else:
            result = fig6b.run_from_sweep(runs, a.out, partial=a.partial)
    except ValueError as err:  # an unfinished run, configs that do not match: one line
        ap.error(str(err))
    record(a.out, [result])
    for c in result.claims:
        print(json.dumps(asdict(c) | {"figure": result.figure}, default=str, indent=1))


if __name__ == "__main__":
    main()
