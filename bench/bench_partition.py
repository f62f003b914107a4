"""Default layout of ``ghostmech sweep fig6a_rank1 --full`` against the one-core reference.

Runs the user's command (the CLI, a fresh run directory and a fresh JAX
compilation cache each) with ``--set training.epochs=E`` for three layouts,
one after the other in this run:

* ``default``          no option: one task per core, in worker processes;
* ``one_core_300``     ``--networks-per-task 300``: one task of the whole grid, in-process
                       (the reference: 7.5 min for the full 200,001 epochs, 2026-11-28);
* ``tasks_of_60``      ``--networks-per-task 60``: the old default's blocks (5 tasks).

and checks that all three wrote bitwise the same metrics. Prints JSON with
wall seconds, network-epochs/s and the 1-min load average before and after
each. Run: ``python -m bench.bench_partition [--epochs 3000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYOUTS = {"default": [], "one_core_300": ["--networks-per-task", "300"],
           "tasks_of_60": ["--networks-per-task", "60"]}  # fmt: skip
CLI = "import sys; from ghostmech.cli import main; sys.exit(main())"


def run(epochs: int, layout: list[str], tmp: Path, name: str) -> dict:
    out = tmp / name
    env = os.environ | {"JAX_COMPILATION_CACHE_DIR": str(tmp / f"cache-{name}")}
    argv = [sys.executable, "-c", CLI, "sweep", "fig6a_rank1", "--full", "--out", str(out),
            "--set", f"training.epochs={epochs}", "--set", f"checkpoints.every={epochs}", *layout]  # fmt: skip
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "net_epochs_per_s": round(300 * epochs / seconds),
            "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
            "out": str(out)}  # fmt: skip


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3000)
    p.add_argument("--json")
    p.add_argument("--only", nargs="*", default=list(LAYOUTS))
    args = p.parse_args(argv)
    import numpy as np

    from ghostmech.runs import open_run

    with tempfile.TemporaryDirectory() as d:
        res = {k: run(args.epochs, LAYOUTS[k], Path(d), k) for k in args.only}
        losses = [open_run(r["out"]).metrics.loss.values for r in res.values()]
        same = all(np.array_equal(x, losses[0], equal_nan=True) for x in losses)
    report = {"epochs": args.epochs, "cores": len(os.sched_getaffinity(0)),
              "bitwise_equal": bool(same), "layouts": res}  # fmt: skip
    for r in res.values():
        r.pop("out")
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
