"""Statistics of a learning-rate threshold: Wilson intervals, the crossing of ½, exponents.

A measured critical learning rate is the lr where the fraction of networks
*trapped* (among those whose outcome is decided) crosses ½ (docs/theory.md,
"Predicting the critical learning rate"). Per lr the fraction gets a 95 %
Wilson score interval; η_c gets a bootstrap interval over networks (seeds),
widened to at least the grid cell that brackets the crossing; the exponent p
of η_c ∝ Tᵖ gets a bootstrap interval from the per-delay bootstrap samples.
"""

from __future__ import annotations

import math

import numpy as np

from ghostmech.stats import wilson

__all__ = ["wilson", "monotone", "crossing", "bootstrap_crossing", "fit_exponent"]


def monotone(frac, weight) -> np.ndarray:
    """Non-decreasing least-squares fit (pool adjacent violators) of ``frac`` with ``weight``."""
    blocks = []  # [value, weight, size]
    for f, w in zip(np.asarray(frac, float), np.asarray(weight, float), strict=True):
        blocks.append([f, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, s2 = blocks.pop()
            v1, w1, s1 = blocks.pop()
            wt = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / wt if wt > 0 else (v1 + v2) / 2, wt, s1 + s2])
    return np.concatenate([np.full(s, v) for v, _, s in blocks])


def crossing(lrs, trapped, decided, level: float = 0.5) -> tuple[float, float, float]:
    """``(η_c, lo, hi)``: where the monotone fit of the fraction trapped crosses ``level``.

    ``lrs`` ascending ``[n_lrs]``; ``trapped``, ``decided`` counts ``[n_lrs]``. The crossing is
    interpolated linearly in log lr between the two grid points that bracket it (``lo``,
    ``hi``). NaNs when the fraction never crosses inside the grid.

    >>> round(crossing([1, 2, 4, 8], [0, 0, 4, 4], [4, 4, 4, 4])[0], 6)  # √(2·4)
    2.828427
    """
    lrs = np.asarray(lrs, float)
    dec = np.asarray(decided, float)
    use = dec > 0
    if use.sum() < 2:
        return math.nan, math.nan, math.nan
    x, f = np.log(lrs[use]), monotone(np.asarray(trapped, float)[use] / dec[use], dec[use])
    above = np.flatnonzero(f >= level)
    if above.size == 0 or above[0] == 0:
        return math.nan, math.nan, math.nan
    j = int(above[0])
    f0, f1 = f[j - 1], f[j]
    t = (level - f0) / (f1 - f0) if f1 > f0 else 0.5
    return (
        float(np.exp(x[j - 1] + t * (x[j] - x[j - 1]))),
        float(lrs[use][j - 1]),
        float(lrs[use][j]),
    )


def bootstrap_crossing(lrs, outcome, *, key: int, n_boot: int = 2000) -> np.ndarray:
    """Bootstrap samples of η_c, resampling networks (columns) with replacement.

    ``outcome`` ``[n_lrs, n_nets]``: 1 trapped, 0 not trapped, NaN undecided. Returns the finite
    samples (a crossing outside the grid is dropped; the caller reports how many).
    """
    out = np.asarray(outcome, float)
    rng = np.random.default_rng(key)
    samples = []
    for _ in range(n_boot):
        cols = out[:, rng.integers(0, out.shape[1], out.shape[1])]
        dec = np.isfinite(cols)
        samples.append(crossing(lrs, np.nansum(cols, 1), dec.sum(1))[0])
    return np.asarray(samples)


def fit_exponent(delays, etas, samples=None, *, key: int = 0) -> tuple[float, float, float]:
    """``(p, lo, hi)``: least-squares slope of log η_c against log T, with a 95 % interval.

    The interval is the 2.5–97.5 percentile of the slopes refitted on bootstrap draws of
    each delay's η_c (``samples[i]`` = bootstrap η_c of delay i); without samples, NaNs.

    >>> round(fit_exponent([10, 20, 40], [1e-2, 2.5e-3, 6.25e-4])[0], 6)
    -2.0
    """
    d, e = np.log(np.asarray(delays, float)), np.log(np.asarray(etas, float))
    p = float(np.polyfit(d, e, 1)[0])
    if samples is None:
        return p, math.nan, math.nan
    rng = np.random.default_rng(key)
    draws = [np.asarray(s, float)[np.isfinite(s)] for s in samples]
    slopes = [
        np.polyfit(d, np.log([s[rng.integers(0, s.size)] for s in draws]), 1)[0]
        for _ in range(2000)
    ]
    lo, hi = np.percentile(slopes, [2.5, 97.5])
    return p, float(lo), float(hi)
