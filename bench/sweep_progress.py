"""How far a blocked run got, in network-epochs per part (rank): for runs longer than a sitting.

    python -m bench.sweep_progress RUN [--cpu-s SECONDS] [--out progress.json]

Counts what `ghostmech.runs.progress.network_epochs_by_part` finds on disk (a
block still running counts the epochs a resume keeps). With ``--cpu-s`` (the
CPU seconds spent so far, e.g. from ``/usr/bin/time``) it also gives the
throughput and the CPU time the rest needs at that throughput. The parts done
first may be cheaper than the rest (Fig. 6B's low ranks first), so that
estimate is then a lower bound.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ghostmech.runs import open_run
from ghostmech.runs.progress import network_epochs_by_part, resume_command


def record(path: Path, cpu_s: float | None = None) -> dict:
    """The progress record of the run in ``path`` (with throughput if ``cpu_s`` is given)."""
    run = open_run(path)
    parts = network_epochs_by_part(run)
    done, total = (sum(v[i] for v in parts.values()) for i in (0, 1))
    rec = {
        "run": str(path),
        "status": run.status,
        "epochs": run.config.training.epochs,
        "network_epochs_done": done,
        "network_epochs_total": total,
        "fraction_done": done / total,
        "parts": {k: {"done": d, "total": t} for k, (d, t) in parts.items()},
        "resume": resume_command(path),
    }
    if cpu_s:
        rate = done / cpu_s
        rec |= {"cpu_s": cpu_s, "network_epochs_per_cpu_s": rate,
                "cpu_s_left_at_this_rate": (total - done) / rate}  # fmt: skip
    return rec


def emit(rec: dict, out: Path | None) -> None:
    """Print ``rec`` as JSON, and write it to ``out`` if given."""
    print(json.dumps(rec, indent=1))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rec, indent=1) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--cpu-s", type=float, help="CPU seconds spent so far")
    ap.add_argument("--out", type=Path, help="write the record here (JSON)")
    a = ap.parse_args(argv)
    rec = record(a.run, a.cpu_s)
    emit(rec, a.out)


if __name__ == "__main__":
    main()
