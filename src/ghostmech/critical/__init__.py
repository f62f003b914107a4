"""ghostmech.critical: predict and measure a network's critical learning rate.

* `predict` (`Prediction`): η_c of a network from its initialisation, by the timing
  projection (rank one, calibrated), the ε-projection (Eqs. 29–35), the curvature bound
  2/λ_max and the one-step overshoot, on its gradient-flow path (docs/theory.md §5);
* `measure_rank1_da`, `measure_sweep` (`Measured`): η_c measured on a log grid of lrs, with
  Wilson intervals per lr and a bootstrap interval (`wilson`, `crossing`, `fit_exponent`);
* building blocks: `make_problem`, `gradient_flow_path`, `lanczos_max`, `overshoot_lr`,
  `ghost_epsilon`, `crossing_step`, `output_crossing_step`.

See docs/critical.md for the measured accuracy of each predictor.
"""

from __future__ import annotations

from ghostmech.critical.curvature import eos_lr, lanczos_max, lanczos_max_batch
from ghostmech.critical.measure import Measured, measure_rank1_da, measure_sweep
from ghostmech.critical.overshoot import overshoot_lr
from ghostmech.critical.path import Path, gradient_flow_path
from ghostmech.critical.predict import PREDICTORS, TIMING_CALIBRATION, Prediction, predict
from ghostmech.critical.problem import Problem, make_problem
from ghostmech.critical.projection import (
    crossing_step,
    epsilon_projection_lr,
    ghost_epsilon,
    output_crossing_step,
    timing_projection_lr,
)
from ghostmech.critical.stats import crossing, fit_exponent, wilson

__all__ = [
    "PREDICTORS",
    "TIMING_CALIBRATION",
    "Measured",
    "Path",
    "Prediction",
    "Problem",
    "crossing",
    "crossing_step",
    "eos_lr",
    "epsilon_projection_lr",
    "fit_exponent",
    "ghost_epsilon",
    "gradient_flow_path",
    "lanczos_max",
    "lanczos_max_batch",
    "make_problem",
    "measure_rank1_da",
    "measure_sweep",
    "output_crossing_step",
    "overshoot_lr",
    "predict",
    "timing_projection_lr",
    "wilson",
]
