"""Fig. 6A's verdict from two finished sweeps, resumable across sittings (issue 12, item 3).

    ghostmech sweep fig6a_rank1 --full --out runs/fig6a_rank1.full
    ghostmech sweep fig6a_full --full --out runs/fig6a_full.full   # hours; rerun to resume
    python -m bench.fig6a_from_runs runs/fig6a_rank1.full runs/fig6a_full.full \
        --out docs/results/fig6a/sweeps

``ghostmech reproduce fig6a --full`` trains both grids in one process that cannot
resume; the full-rank grid needs more CPU time than one sitting. The two sweeps
train the same grids (the shipped configs the figure reads its sizes from),
resume bit-identically, and `ghostmech.paper.fig6a.run_from_sweeps` applies the
same rules and claim to their final losses. The seeds are the sweeps' grid seeds
0..n−1, not the ones ``reproduce`` draws from its key. Writes the panel,
``summary.json`` and ``REPRODUCTION.md`` to ``--out`` (the ``seed`` field there is
0 and means nothing here) and prints the claim.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from ghostmech.paper import fig6a
from ghostmech.paper.claims import record
from ghostmech.runs import open_run


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rank1", type=Path, help="finished run of fig6a_rank1")
    ap.add_argument("full", type=Path, help="finished run of fig6a_full")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    result = fig6a.run_from_sweeps(open_run(a.rank1), open_run(a.full), a.out)
    record(a.out, [result])
    for c in result.claims:
        print(json.dumps(asdict(c) | {"figure": result.figure}, default=str, indent=1))


if __name__ == "__main__":
    main()
