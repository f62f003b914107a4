"""Fig. 6B's per-rank numbers from a resumable ``ghostmech sweep fig6b --full`` run, finished ranks only.

    python -m bench.fig6b_partial RUN [RUN ...] [--cpu-s SECONDS ...] [--out docs/results/fig6b/partial.json]

For every rank whose blocks are all done: per lr, the networks that learned
(first epoch with L < 0.1), the median epochs to learn, and the trapped ones at
the end, all from `ghostmech.paper.fig6b.rank_stats`, the statistic
``ghostmech reproduce fig6b`` judges. The verdicts compare rank 1
with the largest rank, so they wait for the whole run; the record says how far
it got (`bench.sweep_progress`). Note: the sweep's seeds are the config's grid
seeds, not the ones ``reproduce fig6b --full`` draws from its key. Several runs that
split the seeds (`ghostmech.paper.fig6b.check_split`) count as one, over the ranks all of
them have finished; ``progress`` holds one record per run (``--cpu-s``: one per run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.sweep_progress import emit, record
from ghostmech.paper.fig6b import check_split, rank_stats, sweep_losses
from ghostmech.runs import open_run
from ghostmech.runs.progress import finished_parts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="runs that split the seeds")
    ap.add_argument("--cpu-s", type=float, nargs="*", help="CPU seconds spent so far, per run")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    cpu = a.cpu_s or [None] * len(a.runs)
    if len(cpu) != len(a.runs):
        ap.error(f"`--cpu-s`: give one per run ({len(a.runs)}), not {len(cpu)}")
    runs = [open_run(r) for r in a.runs]
    try:
        check_split(runs)
    except ValueError as err:
        ap.error(str(err))
    run = runs[0]
    budget = run.config.training.epochs
    out = {"progress": [record(r, c) for r, c in zip(a.runs, cpu, strict=True)], "ranks": {}}
    lrs = run.metrics.lr.values
    done = set.intersection(*(set(finished_parts(r)) for r in runs))
    for part in (p for p in finished_parts(run) if p in done):
        loss = sweep_losses(runs, int(part))
        st = rank_stats(loss, budget)
        ep, trapped = st["epochs"], st["trapped"]
        out["ranks"][part] = {
            "per_lr": [
                {
                    "lr": float(lr),
                    "learned": f"{int(np.isfinite(ep[i]).sum())}/{ep.shape[1]}",
                    "median_epochs_to_learn": (
                        float(np.nanmedian(ep[i])) if np.isfinite(ep[i]).any() else None
                    ),
                    "trapped_at_end": f"{int(trapped[i].sum())}/{ep.shape[1]}",
                    "median_final_loss": float(np.median(loss[i, :, -1])),
                }
                for i, lr in enumerate(lrs)
            ],
            "mean_epochs_to_learn_censored": float(st["censored"].mean()),
            "trapped_at_end": f"{int(trapped.sum())}/{trapped.size}",
            "learned_ever_then_trapped": f"{int((np.isfinite(ep) & trapped).sum())}/{trapped.size}",
        }
    emit(out, a.out)


if __name__ == "__main__":
    main()
