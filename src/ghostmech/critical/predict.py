"""Predict a network's critical learning rate from its gradient-flow path (seconds).

`predict(net, task, key=...)` traces the gradient-flow path of ``net`` from its
initialisation through the plateau and the drop (`path.gradient_flow_path`, no lr
needed), then evaluates at points along it:

* ``overshoot``: the smallest lr whose one step lands in the no-learning zone
  (`overshoot.overshoot_lr`), minimised over the path (Eq. 23 asked of the network);
* ``curvature``: 2/λ_max of the loss Hessian (`curvature.lanczos_max`), minimised over the
  path (the edge of stability; at the drop and at the learned end);
* rank one only: the ``epsilon`` projection (Eqs. 29–35) and the ``timing`` projection,
  each at the path point where the loss is lowest (the optimum of the canonical picture).

``predicted`` (docs/critical.md has the measured accuracy of each):

* rank one with the Eq. 36 readout: ``timing_calibrated`` = `TIMING_CALIBRATION` × the
  timing projection. The constant is measured/predicted at T = 20 only (rank one, DA,
  8 networks, docs/results/critical/validation.json ``calibration.c_timing`` to two
  decimals); T = 10, 40 and 80 validate it;
* any other network: the curvature bound 2/λ_max (a safe lr, a lower bound on η_c: the
  measured full-rank η_c lies far above it).

All quantities are in the result. docs/theory.md §5 derives each predictor.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ghostmech._checks import check_positive_int
from ghostmech.critical.curvature import eos_lr, lanczos_max_batch
from ghostmech.critical.overshoot import overshoot_lr, trapped_fn
from ghostmech.critical.path import gradient_flow_path
from ghostmech.critical.problem import make_problem
from ghostmech.critical.projection import (
    epsilon_projection_lr,
    latent_flow,
    output_timing_lr,
    timing_projection_lr,
)

__all__ = ["Prediction", "predict", "PREDICTORS", "STATUSES", "TIMING_CALIBRATION"]

PREDICTORS = ("timing_calibrated", "timing", "epsilon", "curvature", "overshoot")
TIMING_CALIBRATION = 1.37  # measured / timing at T = 20 only, rank one, DA (docs/critical.md)
STATUSES = ("ok", "no_drop", "no_bound")


@dataclass(frozen=True)
class Prediction:
    """``predicted`` η_c, the predictor that ``binds`` (one of `PREDICTORS`), every
    predictor's value (``values``, inf / NaN where it does not apply), the quantities used
    (``quantities``), the path's length and ``status`` (one of `STATUSES`)."""

    status: str
    predicted: float
    binds: str
    values: dict[str, float]
    quantities: dict[str, float]
    path_steps: int
    wall_s: float
    profile: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        return asdict(self)


def _sample(loss: np.ndarray, n_points: int) -> np.ndarray:
    """Indices of the path to evaluate: ``n_points`` spread over the drop (L < 0.98 ·
    plateau loss) plus the last plateau point and the end."""
    plateau = loss[0]
    drop = np.flatnonzero(loss < 0.98 * plateau)
    if drop.size == 0:
        return np.array([len(loss) - 1])
    start = max(int(drop[0]) - 1, 0)
    idx = np.unique(np.linspace(start, len(loss) - 1, n_points).round().astype(int))
    return idx


def predict(
    net,
    task,
    *,
    key: jax.Array,
    step: float = 0.01,
    max_steps: int = 4000,
    n_points: int = 16,
    lanczos_iters: int = 20,
    overshoot: bool = False,
) -> Prediction:
    """Predicted η_c of ``net`` (its initialisation) trained by SGD on ``task`` (module
    docstring). ``step``: path step length in parameter space; ``n_points``: path points
    where the curvature is evaluated; ``overshoot``: also run the (slower) one-step
    overshoot search at 4 of them."""
    n_points = check_positive_int("n_points", n_points)
    t0 = time.time()
    with jax.enable_x64(True):
        prob = make_problem(net, task)
        path = gradient_flow_path(prob.loss, prob.theta0, step=step, max_steps=max_steps)
        idx = _sample(path.loss, n_points)
        lam = lanczos_max_batch(
            prob.loss, jnp.asarray(path.thetas[idx]), key=key, iters=lanczos_iters
        )
        prof = {
            "loss": path.loss[idx].tolist(),
            "lambda_max": lam.tolist(),
            "curvature": [eos_lr(x) for x in lam],
        }
        values = {"curvature": min(prof["curvature"]), "overshoot": math.nan}
        best = int(np.argmin(path.loss))
        q = {
            "plateau_loss": float(path.loss[0]),
            "final_loss": float(path.loss[-1]),
            "lambda_max_path": float(lam.max()),
            "lambda_max_end": float(lam[-1]),
            "loss_at_lambda_max": float(path.loss[idx][int(np.argmax(lam))]),
        }
        if overshoot:
            trapped = trapped_fn(prob.loss)
            sub = idx[np.unique(np.linspace(0, idx.size - 1, 4).round().astype(int))]
            prof["overshoot"] = [
                overshoot_lr(
                    prob.loss, jnp.asarray(path.thetas[i]), trapped=trapped, n_grid=31, n_bisect=12
                )
                for i in sub
            ]
            values["overshoot"] = min(prof["overshoot"])
        values |= {"epsilon": math.nan, "timing": math.nan, "timing_calibrated": math.nan}
        net0 = prob.net(prob.theta0)
        delay = getattr(task, "delay", None)
        if (
            delay
            and getattr(task, "name", "") == "da"
            and not (net0.rank == 1 and type(net0.readout).__name__ == "ThresholdReadout")
        ):  # any other network on DA: t* from the output's crossing of ½
            t_lr, tstar, tg2 = output_timing_lr(prob, jnp.asarray(path.thetas[best]), delay=delay)
            values["timing"] = t_lr
            q |= {"t_star": tstar, "grad_t_star_sq": tg2}
        if net0.rank == 1 and type(net0.readout).__name__ == "ThresholdReadout" and delay:
            th = jnp.asarray(path.thetas[best])
            net_b = prob.net(th)
            kappa0 = float(jnp.dot(net_b.nT[:, 0], net_b.r0))
            k_theta = float(net_b.readout.theta)
            grid = jnp.linspace(kappa0, k_theta, 401)
            speed = jax.vmap(latent_flow(net_b))(grid)
            e_lr, eps, g2, interior = epsilon_projection_lr(
                prob, th, delay=delay, kappa0=kappa0, kappa_theta=k_theta
            )
            t_lr, tstar, tg2 = timing_projection_lr(prob, th, delay=delay)
            values["epsilon"] = e_lr if interior else math.nan
            values["timing"] = t_lr
            values["timing_calibrated"] = TIMING_CALIBRATION * t_lr
            q |= {
                "epsilon": eps,
                "grad_epsilon_sq": g2,
                "ghost_interior": float(interior),
                "t_star": tstar,
                "grad_t_star_sq": tg2,
                "speed_max_over_min": float(speed.max() / speed.min()),
                "speed_min_at": float((grid[jnp.argmin(speed)] - kappa0) / (k_theta - kappa0)),
            }
    binds = "timing_calibrated" if math.isfinite(values["timing_calibrated"]) else "curvature"
    if path.status != "ok":
        status = "no_drop"
    elif math.isfinite(values[binds]):
        status = "ok"
    else:
        status = "no_bound"
    return Prediction(
        status,
        float(values[binds]),
        binds,
        values,
        q,
        len(path.loss),
        time.time() - t0,
        {k: list(map(float, v)) for k, v in prof.items()},
    )
