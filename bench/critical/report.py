"""Validation table (markdown) and figure of measured vs predicted η_c (issue 13).

    python -m bench.critical.report [--res docs/results/critical] [--fig docs/images/critical_lr.png]

Reads ``<family>_da.json`` (``full_dcd.json`` for full rank on DCD; measured,
`measure_rank1` / `measure_sweep`) and ``predict_<family>[_T<delay>].json``
(`predict_rank1`). The calibrated timing law multiplies the
timing projection by one constant c, the ratio measured / predicted at T = ``--calib``
for rank one (geometric mean over its networks); the other delays validate it.
Writes ``validation.json`` next to the inputs and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np

FAMILIES = ("rank1", "rank2", "full", "full_dcd")
RECORDS = {"rank1": "rank1_da", "rank2": "rank2_da", "full": "full_da", "full_dcd": "full_dcd"}
LABELS = {"rank1": "rank1", "rank2": "rank2", "full": "full", "full_dcd": "full, DCD"}
PREDICTORS = ("timing", "epsilon", "curvature")


def _gm(xs) -> float:
    xs = [x for x in xs if x is not None and np.isfinite(x) and x > 0]
    return float(np.exp(np.mean(np.log(xs)))) if xs else math.nan


def load(res: Path):
    """Measured rows, predictions and each record's exponent (with its 95 % interval)."""
    meas, pred, expo = {}, {}, {}
    for fam in FAMILIES:
        f = res / f"{RECORDS[fam]}.json"
        if f.is_file():
            rec = json.loads(f.read_text())
            meas[fam] = {int(t): v for t, v in rec[fam].items() if t.isdigit()}
            if "exponent" in rec:
                expo[fam] = rec["exponent"]
        for f in sorted(res.glob(f"predict_{fam}*.json")):  # predict_rank1_T80.json too
            if not re.fullmatch(rf"predict_{fam}(_T\d+)?\.json", f.name):
                continue  # predict_full_dcd.json is not full rank on DA
            per = json.loads(f.read_text())["per_delay"]
            pred.setdefault(fam, {}).update({int(t): v for t, v in per.items()})
    mech = {}
    for fam in FAMILIES:
        f = res / f"mechanism_{fam}.json"
        if f.is_file():
            per = json.loads(f.read_text())["per_delay"]
            mech[fam] = {  # networks whose path reached the end of the drop
                int(t): [r["verdict"] for r in rows if r["path_status"] == "ok"]
                for t, rows in per.items()
            }
    return meas, pred, expo, mech


def table(meas, pred, calib: int, expo=None, mech=None):
    """Rows per family and delay. "ghosts at the drop": rank one, networks whose latent
    speed has a minimum inside [κ₀, κ_θ] (`predict`); other families, networks judged
    ``ghost`` by the docs/theory.md §4 criterion (`bench.critical.mechanism`)."""
    mech = mech or {}
    rows, out = [], {"exponents_measured_ci95": expo or {}}
    c = math.nan
    if calib in meas.get("rank1", {}) and calib in pred.get("rank1", {}):
        c = meas["rank1"][calib]["eta_c"] / _gm(r["values"]["timing"] for r in pred["rank1"][calib])
    out["calibration"] = {"family": "rank1", "delay": calib, "c_timing": c}
    for fam in FAMILIES:
        none = {
            "eta_c": math.nan,
            "ci95": [math.nan, math.nan],
            "decided": [0],
            "status": "not_measured",
        }
        for T in sorted(set(meas.get(fam, {})) | set(pred.get(fam, {}))):
            m = meas.get(fam, {}).get(T, none)
            p_all = pred.get(fam, {}).get(T, [])
            # a path that never dropped has no drop to evaluate the predictors on
            p = [r for r in p_all if r["status"] == "ok"]
            vals = {k: _gm(r["values"][k] for r in p) for k in PREDICTORS}
            interior = [
                r["quantities"]["ghost_interior"] for r in p if "ghost_interior" in r["quantities"]
            ]
            gt2 = _gm(r["quantities"].get("grad_t_star_sq") for r in p)
            ghosts = sum(1 for g in interior if g)
            if not interior and T in mech.get(fam, {}):
                interior = mech[fam][T]
                ghosts = sum(1 for v in interior if v == "ghost")
            row = dict(
                family=fam,
                T=T,
                measured=m["eta_c"],
                ci95=m["ci95"],
                n=int(sum(m["decided"])),
                status=m["status"],
                predicted=vals,
                calibrated_timing=c * vals["timing"] if fam == "rank1" else math.nan,
                n_pred=len(p),
                n_pred_no_drop=len(p_all) - len(p),
                ghosts=ghosts,
                n_ghost_checked=len(interior),
                grad_t_star_sq=gt2,
            )
            rows.append(row)
    out["rows"] = rows
    out["exponents"] = {}
    for fam in FAMILIES:
        rs = [w for w in rows if w["family"] == fam]
        e = {}
        for key in ("measured", *PREDICTORS):
            pts = [
                (w["T"], w["measured"] if key == "measured" else w["predicted"][key]) for w in rs
            ]
            pts = [(t, v) for t, v in pts if np.isfinite(v) and v > 0]
            if len(pts) >= 2:
                t, v = np.log(np.array(pts)).T
                e[key] = float(np.polyfit(t, v, 1)[0])
        out["exponents"][fam] = e
    return out


def markdown(out) -> str:
    def f(x):
        return "—" if x is None or not np.isfinite(x) else f"{x:.3g}"

    def r(p, m):
        if not (np.isfinite(p) and np.isfinite(m)):
            return "—"
        return f"{p / m:.2f}" if p / m >= 0.095 else f"{p / m:.2g}"

    head = (
        "| net | T | measured η_c [95 %] | timing T²/‖∇t*‖² (ratio) | calibrated timing "
        "(ratio) | ε-projection | curvature 2/λ_max (ratio) | ghosts at the drop |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for w in out["rows"]:
        m, p = w["measured"], w["predicted"]
        lo, hi = w["ci95"]
        lines.append(
            f"| {LABELS[w['family']]} | {w['T']} | {f(m)} [{f(lo)}, {f(hi)}] (n = {w['n']}) | "
            f"{f(p['timing'])} ({r(p['timing'], m)}) | {f(w['calibrated_timing'])} "
            f"({r(w['calibrated_timing'], m)}) | {f(p['epsilon'])} | "
            f"{f(p['curvature'])} ({r(p['curvature'], m)}) | "
            + (f"{w['ghosts']} of {w['n_ghost_checked']} |" if w["n_ghost_checked"] else "— |")
        )
    return "\n".join(lines)


def figure(out, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = {"rank1": "C0", "rank2": "C2", "full": "C3", "full_dcd": "C4"}
    for fam in FAMILIES:
        rows = [w for w in out["rows"] if w["family"] == fam]
        if not rows:
            continue
        T = np.array([w["T"] for w in rows], float)
        m = np.array([w["measured"] for w in rows])
        lo = np.array([w["ci95"][0] for w in rows])
        hi = np.array([w["ci95"][1] for w in rows])
        ax.errorbar(
            T,
            m,
            yerr=[m - lo, hi - m],
            fmt="s" if fam == "full_dcd" else "o",
            color=colors[fam],
            label=f"{LABELS[fam]}: measured",
            capsize=3,
        )
        for key, style, lab in (
            ("timing", "--", "timing T²/‖∇t*‖²"),
            ("curvature", ":", "curvature 2/λ_max"),
        ):
            v = np.array([w["predicted"][key] for w in rows])
            if np.isfinite(v).any():
                ax.plot(T, v, style, color=colors[fam], label=f"{LABELS[fam]}: {lab}")
        if fam == "rank1":
            v = np.array([w["calibrated_timing"] for w in rows])
            ax.plot(T, v, "-", color=colors[fam], lw=1, label="rank1: calibrated timing")
            ref = m[0] * (T / T[0]) ** -4.0
            ax.plot(T, ref, "-", color="0.6", lw=0.8, label="∝ T⁻⁴ (canonical, through T = 10)")
    ax.set(xscale="log", yscale="log", xlabel="delay T (steps)", ylabel="critical lr η_c")
    ax.set_xticks([10, 20, 40, 80], labels=["10", "20", "40", "80"])
    ax.minorticks_off()
    ax.legend(fontsize=7, frameon=False, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--res", type=Path, default=Path("docs/results/critical"))
    ap.add_argument("--fig", type=Path, default=Path("docs/images/critical_lr.png"))
    ap.add_argument("--calib", type=int, default=20)
    a = ap.parse_args(argv)
    meas, pred, expo, mech = load(a.res)
    out = table(meas, pred, a.calib, expo, mech)
    (a.res / "validation.json").write_text(json.dumps(out, indent=1))
    figure(out, a.fig)
    print(markdown(out))
    print(json.dumps(out["exponents"]), json.dumps(out["calibration"]))
    print(json.dumps(out["exponents_measured_ci95"]))


if __name__ == "__main__":
    main()
