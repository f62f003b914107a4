"""Figure 1: a ghost (ẋ = x² + ε) against two fixed points (ẋ = x² − ε), ε = 0.5.

Measured here, by integrating the flows numerically (scipy, rtol 1e-10):

* the fixed points of ẋ = x² − 0.5 (root finding) against ±√0.5, and their
  stability from the sign of f'(x*) = 2x*;
* the ghost flow has no root; its slowest point is x = 0 with speed ε;
* the passage time of ẋ = x² + ε from x = −L to x = +L against π/√ε (the
  finite window shortens it by 2(π/2 − arctan(L/√ε))/√ε ≈ 2/L: < 0.5 % at L = 100),
  for several ε, and the share of it spent in the bottleneck |x| ≤ 1;
* a trajectory of ẋ = x² − 0.5 from x = −L never passes: it settles at −√0.5.

Sizes: this figure trains no RNN (closed-form flows), so its settings live in
this module, not in a shipped config (`ghostmech.paper.settings`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

from ghostmech.paper.claims import Claim, FigureResult, verdict_all, verdict_close, verdict_of
from ghostmech.plotting.canonical import plot_ghost_vs_fixed_points
from ghostmech.plotting.style import save_figure

__all__ = ["run", "passage_time", "EPS"]

EPS = 0.5
PASSAGE_RTOL = 0.01  # finite window L >= 100 biases the time by ~2/L (< 0.5 %)
ROOT_RTOL = 1e-9  # brentq to xtol 1e-14 on an O(1) root
BOTTLENECK_SHARE = 0.5  # |x| <= 1 is 1 % of [-100, 100]; the ghost holds > half the time


def _flow(sign: float, eps: float):
    return lambda t, x: x**2 + sign * eps


def _crossing(value: float):
    def event(t, x):
        return x[0] - value

    event.direction = 1.0
    return event


def passage_time(eps: float, L: float) -> dict[str, float]:
    """Times of ẋ = x² + ε, x(0) = −L, to reach −1, +1 and +L (numerical ODE solution)."""
    events = [_crossing(-1.0), _crossing(1.0), _crossing(L)]
    events[-1].terminal = True
    t_max = 10 * math.pi / math.sqrt(eps)
    sol = solve_ivp(_flow(1.0, eps), (0.0, t_max), [-L], events=events, rtol=1e-10, atol=1e-12)
    t_in, t_out, t_end = (float(e[0]) if len(e) else math.inf for e in sol.t_events)
    return {"total": t_end, "bottleneck": t_out - t_in}


def _fixed_points(eps: float) -> list[float]:
    f = lambda x: x**2 - eps  # noqa: E731
    return [brentq(f, -10.0, 0.0, xtol=1e-14), brentq(f, 0.0, 10.0, xtol=1e-14)]


def _claims(L: float, eps_list: list[float]) -> tuple[list[Claim], dict]:
    lo, hi = _fixed_points(EPS)
    root = math.sqrt(EPS)
    stable = 2 * lo < 0 < 2 * hi  # f'(x*) = 2x*
    ghost_min = minimize_scalar(lambda x: x**2 + EPS, bracket=(-1.0, 1.0))
    fp = Claim(
        "fixed_points",
        "ẋ = x² − 0.5 has a stable fixed point at −√0.5 and an unstable one at +√0.5",
        {"x_stable": lo, "x_unstable": hi, "theory": root},
        verdict_all(
            [verdict_close(-lo, root, rtol=ROOT_RTOL), verdict_close(hi, root, rtol=ROOT_RTOL)]
            + [verdict_of(stable)]
        ),
        f"|x* ∓ √0.5| ≤ {ROOT_RTOL:g}·√0.5, f'(x*) signs",
    )
    ghost = Claim(
        "ghost_no_fixed_point",
        "ẋ = x² + 0.5 has no fixed point; its slowest point x = 0 has speed ε",
        {"argmin_x": float(ghost_min.x), "min_speed": float(ghost_min.fun)},
        verdict_of(abs(ghost_min.x) < 1e-6 and abs(ghost_min.fun - EPS) < 1e-9),
        "|argmin| < 1e-6, |min f − ε| < 1e-9",
    )
    times = [passage_time(e, L) for e in eps_list]
    ratios = [t["total"] * math.sqrt(e) / math.pi for t, e in zip(times, eps_list, strict=True)]
    passage = Claim(
        "passage_time",
        "passage through the ghost takes π/√ε (diverges as ε → 0)",
        {f"ratio_eps={e:g}": r for e, r in zip(eps_list, ratios, strict=True)} | {"L": L},
        verdict_all([verdict_close(r, 1.0, rtol=PASSAGE_RTOL) for r in ratios]),
        f"|T_pass·√ε/π − 1| ≤ {PASSAGE_RTOL:g} for every ε",
    )
    t_half = passage_time(EPS, L)
    share = t_half["bottleneck"] / t_half["total"]
    stuck = solve_ivp(_flow(-1.0, EPS), (0.0, 100.0), [-L], rtol=1e-10, atol=1e-12)
    x_end = float(stuck.y[0, -1])
    slows = Claim(
        "ghost_slows_passage",
        "the ghost holds the trajectory in the bottleneck |x| ≤ 1; two fixed points stop it",
        {"bottleneck_share": share, "x_end_fixed_points": x_end},
        verdict_of(share > BOTTLENECK_SHARE and abs(x_end + root) < 1e-6),
        f"share of passage time in |x| ≤ 1 > {BOTTLENECK_SHARE}; x(100) = −√0.5 ± 1e-6",
    )
    data = {"eps_list": eps_list, "passage": [t["total"] for t in times], "fixed": (lo, hi)}
    return [fp, ghost, passage, slows], data


def _trajectories(L0: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = np.linspace(0.0, 8.0, 400)
    trajs = {}
    for label, sign in (("ghost: ẋ = x² + 0.5", 1.0), ("fixed points: ẋ = x² − 0.5", -1.0)):
        stop = _crossing(5.0)
        stop.terminal = True
        sol = solve_ivp(_flow(sign, EPS), (0, t[-1]), [L0], t_eval=t, events=stop, rtol=1e-10)
        x = np.full_like(t, np.nan)
        x[: sol.y.shape[1]] = sol.y[0]
        trajs[label] = x
    return t, trajs


def run(quick: bool, out: Path, *, key=None) -> FigureResult:
    """Measure fig. 1's claims and draw its panels into ``out``. ``key`` is unused."""
    L = 100.0 if quick else 1000.0
    eps_list = [0.5, 0.05, 0.005] if quick else [0.5, 0.1, 0.05, 0.01, 0.005, 0.001]
    claims, data = _claims(L, eps_list)
    t, trajs = _trajectories(-3.0)
    fig = plot_ghost_vs_fixed_points(
        EPS, t, trajs, np.asarray(data["eps_list"]), np.asarray(data["passage"])
    )
    files = save_figure(fig, Path(out) / "fig1")
    return FigureResult("fig1", claims, files, quick=quick)
