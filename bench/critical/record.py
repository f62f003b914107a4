"""Write a critical-lr measurement: the JSON summary (with the exponent over the delays
measured so far, when ≥ 2) and the raw arrays. Shared by the measurement scripts."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ghostmech.critical.stats import fit_exponent


def write_record(out: Path, tag: str, family: str, res: dict, raw: dict, t0: float) -> None:
    """``out/tag.json`` (``{family: res, wall_s, command[, exponent]}``) and ``out/tag.npz``."""
    ok = [t for t in res if res[t]["status"] == "ok"]
    summary = {family: res, "wall_s": time.time() - t0, "command": " ".join(sys.argv)}
    if len(ok) >= 2:
        p, lo, hi = fit_exponent(ok, [res[t]["eta_c"] for t in ok], [raw[f"boot_T{t}"] for t in ok])
        summary["exponent"] = dict(p=p, ci95=[lo, hi], delays=ok)
    (out / f"{tag}.json").write_text(json.dumps(summary, indent=1))
    np.savez(out / f"{tag}.npz", **raw)
