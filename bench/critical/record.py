"""Write a critical-lr measurement: the JSON summary (with the exponent over the delays
measured so far, when ≥ 2) and the raw arrays. Shared by the measurement scripts.

`read_record` loads a record back, so that a later run can add delays to it (a longer
delay measured on its own grid and epochs) and refit the exponent over all of them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from ghostmech.critical.stats import fit_exponent


def _key(t: str):
    return int(t) if t.isdigit() else t


def read_record(out: Path, tag: str, family: str) -> tuple[dict, dict, dict]:
    """``(res, raw, meta)`` of ``out/tag.json`` / ``.npz`` (delays as ints; ``meta``: the
    earlier commands and wall time), or empty dicts when there is no record."""
    f = out / f"{tag}.json"
    if not f.is_file():
        return {}, {}, {}
    d = json.loads(f.read_text())
    res = {_key(t): v for t, v in d[family].items()}
    commands = d.get("commands") or ([d["command"]] if "command" in d else [])
    raw = dict(np.load(out / f"{tag}.npz")) if (out / f"{tag}.npz").is_file() else {}
    return res, raw, {"commands": commands, "wall_s": d.get("wall_s", 0.0)}


def write_record(
    out: Path, tag: str, family: str, res: dict, raw: dict, t0: float, meta: dict | None = None
) -> None:
    """``out/tag.json`` (``{family: res, wall_s, command[, exponent]}``) and ``out/tag.npz``.

    With ``meta`` (from `read_record`: the record this run adds to), ``commands`` lists the
    earlier commands and this one, and ``wall_s`` adds this run's wall time to theirs."""
    ok = [t for t in res if isinstance(t, int) and res[t]["status"] == "ok"]
    wall = time.time() - t0
    summary = {family: res, "wall_s": wall, "command": " ".join(sys.argv)}
    if meta:
        summary |= {
            "wall_s": meta["wall_s"] + wall,
            "commands": [*meta["commands"], " ".join(sys.argv)],
        }
    if len(ok) >= 2:
        p, lo, hi = fit_exponent(ok, [res[t]["eta_c"] for t in ok], [raw[f"boot_T{t}"] for t in ok])
        summary["exponent"] = dict(p=p, ci95=[lo, hi], delays=sorted(ok))
    (out / f"{tag}.json").write_text(json.dumps(summary, indent=1))
    np.savez(out / f"{tag}.npz", **raw)
