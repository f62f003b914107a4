"""Figure 8A: the finite-β landscape keeps a small gradient in the no-learning zone.

T = R = 100, x_θ = 10, β ∈ {0.01, 0.1, 0.5, 1, 2}; ∂L/∂ε by quadrature on
the closed form (``method="closed"``). For each β we measure

    ρ(β) = |∂L/∂ε (0.1 ε*)| / max_{ε ∈ [0.26, 2] ε*} |∂L/∂ε|,

its sign (negative: a descent step increases ε, towards recovery), and the
decay rate of ρ with β over β ∈ {0.5, 1, 2} (docs/theory.md §2.2: roughly e^{−β x_θ}).

Sizes: a landscape of the canonical model, no RNN trained: its settings live in
this module, not in a shipped config (`ghostmech.paper.settings`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ghostmech import canonical as cm
from ghostmech.paper.claims import (
    Claim,
    FigureResult,
    verdict_all,
    verdict_close,
    verdict_of,
)
from ghostmech.plotting.canonical import plot_grad_landscape
from ghostmech.plotting.style import save_figure

__all__ = ["run", "BETAS", "PAPER_RATIOS"]

T, X_THETA = 100.0, 10.0
BETAS = (0.01, 0.1, 0.5, 1.0, 2.0)
PAPER_RATIOS = (1.3e-4, 8.3e-4, 1.1e-4, 1.5e-6, 1.4e-10)  # docs/theory.md, two significant digits
RATIO_RTOL = 0.1  # the paper rounds to 2 digits; the max is taken on a finite grid
SLOPE_BAND = (0.7, 1.3)  # "roughly e^{-β x_θ}": fitted decay rate / x_θ within this band


def _grad(eps: np.ndarray, beta: float) -> np.ndarray:
    kw = dict(T=T, beta=beta, x_theta=X_THETA, scale="per_T", method="closed")
    return np.asarray(cm.loss_grad(eps, **kw))


def _ratios(n_grid: int, betas=BETAS, extra: np.ndarray | None = None):
    """Signed ρ(β) for every β in ``betas`` (sign of ∂L/∂ε at 0.1 ε*), and ∂L/∂ε at ``extra``.

    One library call per β: the point 0.1 ε*, the grid [0.26, 2] ε* and ``extra``.
    """
    e_star = cm.optimum(T)
    grid = np.linspace(0.26, 2.0, n_grid) * e_star
    extra = np.zeros(0) if extra is None else np.asarray(extra)
    signed, at_extra = [], []
    for beta in betas:
        g = _grad(np.concatenate([[0.1 * e_star], grid, extra]), beta)
        signed.append(g[0] / np.abs(g[1 : 1 + n_grid]).max())
        at_extra.append(g[1 + n_grid :])
    return np.asarray(signed), at_extra


def _claims(signed: np.ndarray) -> list[Claim]:
    rho = np.abs(signed)
    ratio_claim = Claim(
        "zone_gradient_ratio",
        "at ε = 0.1ε* the gradient is small but non-zero, relative size as in the paper",
        {f"rho_beta={b:g}": float(r) for b, r in zip(BETAS, rho, strict=True)},
        verdict_all(
            [verdict_close(r, s, rtol=RATIO_RTOL) for r, s in zip(rho, PAPER_RATIOS, strict=True)]
        ),
        f"|ρ/ρ_paper − 1| ≤ {RATIO_RTOL:g} for every β; ρ_paper = {', '.join(map(str, PAPER_RATIOS))}",
    )
    sign_claim = Claim(
        "zone_gradient_points_to_recovery",
        "in the no-learning zone ∂L/∂ε < 0: descent increases ε, towards recovery",
        {f"sign_beta={b:g}": float(np.sign(s)) for b, s in zip(BETAS, signed, strict=True)},
        verdict_of(bool(np.all(signed < 0))),
        "∂L/∂ε(0.1 ε*) < 0 for every β",
    )
    big = np.asarray(BETAS) >= 0.5
    slope = -np.polyfit(np.asarray(BETAS)[big], np.log(rho[big]), 1)[0]
    decay_claim = Claim(
        "zone_gradient_decay",
        "the zone gradient decays roughly like e^{−β x_θ}",
        {"decay_rate": float(slope), "x_theta": X_THETA, "rate_over_x_theta": slope / X_THETA},
        verdict_of(SLOPE_BAND[0] <= slope / X_THETA <= SLOPE_BAND[1]),
        f"fitted −d ln ρ/dβ over β ≥ 0.5, divided by x_θ, in {SLOPE_BAND}",
    )
    return [ratio_claim, sign_claim, decay_claim]


def run(quick: bool, out: Path, *, key=None) -> FigureResult:
    """Measure fig. 8A's claims and draw the normalised |∂L/∂ε| panel. ``key`` is unused."""
    e_star = cm.optimum(T)
    plot_eps = np.linspace(-1.0, 2.0, 151 if quick else 601)
    signed, grads = _ratios(175 if quick else 1000, extra=plot_eps * e_star)
    curves = {f"β = {b:g}": g for b, g in zip(BETAS, grads, strict=True)}
    fig = plot_grad_landscape(plot_eps, curves, eps0_over_star=cm.point_of_no_return(T) / e_star)
    files = save_figure(fig, Path(out) / "fig8a")
    return FigureResult("fig8a", _claims(signed), files, quick=quick)
