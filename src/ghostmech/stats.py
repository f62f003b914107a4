"""Intervals, exact tests and power for claims about fractions of networks and exponents.

The one implementation of each, used by the paper's claims (`ghostmech.paper`), the run
report (`ghostmech.runs.outcomes`) and the critical-lr measurement (`ghostmech.critical`).

A claim about a fraction of networks (trapped, rescued, learned, escaped) is
decided by an exact test at ``ALPHA`` = 0.05 and reported with a 95 %
Clopper–Pearson interval; an exponent is reported with the 95 % t-interval of
its least-squares slope. Quick sizes are chosen with :func:`binomial_power` /
:func:`fisher_power` so that the verdict is decisive at the paper's effect
size (power ≥ 0.95), not a coin flip at the threshold.

* :func:`clopper_pearson` — exact interval: Beta(α/2; k, n−k+1), Beta(1−α/2; k+1, n−k).
* :func:`wilson` — score interval (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
* :func:`binomial_greater` — one-sided exact binomial p-value P(X ≥ k | n, p₀).
* :func:`poisson_binomial_greater` — one-sided exact p-value P(K ≥ k) for K a sum of independent
  Bernoulli(pᵢ) (events with their own chance probabilities; exact convolution).
* :func:`fisher_greater` — one-sided Fisher exact p-value that group 1's rate exceeds group 2's
  (hypergeometric tail; :func:`scipy.stats.fisher_exact`).
* :func:`rank_sum_less` — one-sided Mann–Whitney U p-value that sample a lies below sample b.
* :func:`difference_ci` — Welch interval of mean(a) − mean(b) (Welch–Satterthwaite d.o.f.).
* :func:`slope_ci` — least-squares slope of y on x and its t-interval (n − 2 d.o.f.).

Example::

    >>> round(binomial_greater(9, 10, 0.5), 4)
    0.0107
    >>> [round(x, 4) for x in clopper_pearson(0, 10)]
    [0.0, 0.3085]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as _st

__all__ = [
    "ALPHA",
    "clopper_pearson",
    "wilson",
    "binomial_greater",
    "binomial_critical",
    "binomial_power",
    "poisson_binomial_greater",
    "fisher_greater",
    "fisher_power",
    "rank_sum_less",
    "difference_ci",
    "slope_ci",
    "fraction_fields",
]

ALPHA = 0.05  # every claim's test: one-sided, at 5 %; intervals are two-sided 95 %


def _check(k: int, n: int) -> tuple[int, int]:
    k, n = int(k), int(n)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"`k` (={k}) must lie in [0, n] with `n` (={n}) ≥ 0")
    return k, n


def clopper_pearson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval of a binomial fraction ``k/n``; ``(0, 1)`` if n = 0."""
    k, n = _check(k, n)
    if n == 0:
        return 0.0, 1.0
    a = 1.0 - conf
    lo = 0.0 if k == 0 else float(_st.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(_st.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def wilson(k, n, conf: float = 0.95):
    """Wilson score interval ``(lo, hi)`` of ``k/n``; ``(0, 1)`` where n = 0.

    Scalars give floats; arrays (broadcast together) give arrays. The set of proportions p
    that the two-sided score test of ``k ~ Binomial(n, p)`` does not reject at 1 − ``conf``
    (Wilson 1927): unlike p̂ ± z √(p̂(1 − p̂)/n) it stays inside [0, 1] and is not empty at
    k = 0 or k = n, where learning-rate sweeps sit most of the time.

    >>> [round(x, 4) for x in wilson(0, 10)]
    [0.0, 0.2775]
    """
    k_arr, n_arr = np.asarray(k, float), np.asarray(n, float)
    if np.any(n_arr < 0) or np.any(k_arr < 0) or np.any(k_arr > np.maximum(n_arr, 0)):
        raise ValueError(f"`k` (={k}) must lie in [0, n] with `n` (={n}) ≥ 0")
    z = float(_st.norm.ppf(0.5 + conf / 2))
    safe = np.maximum(n_arr, 1.0)
    p = k_arr / safe
    centre = (p + z * z / (2 * safe)) / (1 + z * z / safe)
    half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / (1 + z * z / safe)
    lo = np.where((n_arr > 0) & (k_arr > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
    hi = np.where((n_arr > 0) & (k_arr < n_arr), np.clip(centre + half, 0.0, 1.0), 1.0)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def binomial_greater(k: int, n: int, p0: float) -> float:
    """One-sided exact binomial p-value for H₁: p > p₀, i.e. P(X ≥ k) with X ~ Bin(n, p₀)."""
    k, n = _check(k, n)
    if n == 0:
        return 1.0
    return float(_st.binom.sf(k - 1, n, p0))


def binomial_critical(n: int, p0: float, alpha: float = ALPHA) -> int:
    """Smallest k with P(X ≥ k | n, p₀) ≤ ``alpha`` (n + 1 if none): the test's pass mark."""
    for k in range(n + 1):
        if binomial_greater(k, n, p0) <= alpha:
            return k
    return n + 1


def binomial_power(n: int, p0: float, p1: float, alpha: float = ALPHA) -> float:
    """Power of the one-sided exact binomial test (H₀: p ≤ p₀) when the true fraction is p₁."""
    k = binomial_critical(n, p0, alpha)
    return float(_st.binom.sf(k - 1, n, p1)) if k <= n else 0.0


def poisson_binomial_greater(k: int, p: Sequence[float]) -> float:
    """One-sided exact p-value P(K ≥ k), K = Σᵢ Bᵢ with independent Bᵢ ~ Bernoulli(pᵢ).

    The distribution of K is the convolution of the n two-point laws (1 − pᵢ, pᵢ),
    computed exactly by dynamic programming (O(n²)); with every pᵢ = p₀ it is the
    binomial tail :func:`binomial_greater`.
    """
    probs = np.asarray(p, dtype=float).ravel()
    if np.any(~np.isfinite(probs)) or np.any((probs < 0) | (probs > 1)):
        raise ValueError(f"p (={probs.tolist()!r}) must be probabilities in [0, 1]")
    k, n = _check(k, probs.size)
    dist = np.zeros(n + 1)
    dist[0] = 1.0
    for i, pi in enumerate(probs):
        dist[1 : i + 2] = dist[1 : i + 2] * (1 - pi) + dist[: i + 1] * pi
        dist[0] *= 1 - pi
    return float(min(1.0, dist[k:].sum()))


def fisher_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided Fisher exact p-value for H₁: rate of group 1 (k1/n1) > rate of group 2."""
    k1, n1 = _check(k1, n1)
    k2, n2 = _check(k2, n2)
    if n1 == 0 or n2 == 0:
        return 1.0
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(_st.fisher_exact(table, alternative="greater").pvalue)


def fisher_power(n1: int, p1: float, n2: int, p2: float, alpha: float = ALPHA) -> float:
    """Power of :func:`fisher_greater` at level ``alpha`` when the true rates are p₁, p₂
    (exact: sums the binomial probabilities of every outcome the test rejects). The test's
    p-value for outcome (a, b) is the hypergeometric tail P(X ≥ a), X ~ Hyp(n₁ + n₂, a + b,
    n₁), as :func:`scipy.stats.fisher_exact` computes it; here over all outcomes at once."""
    n1, n2 = int(n1), int(n2)
    a, b = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    p = _st.hypergeom.sf(a - 1, n1 + n2, a + b, n1)
    f = np.outer(_st.binom.pmf(np.arange(n1 + 1), n1, p1), _st.binom.pmf(np.arange(n2 + 1), n2, p2))
    return float(f[(f > 0) & (p <= alpha)].sum())


def rank_sum_less(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided Mann–Whitney U p-value for H₁: values of ``a`` tend to be smaller than ``b``
    (exact without ties and for small samples, normal approximation with tie correction
    otherwise; :func:`scipy.stats.mannwhitneyu`). 1 if either sample is empty."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size == 0 or b.size == 0:
        return 1.0
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0  # all equal: no evidence either way
    return float(_st.mannwhitneyu(a, b, alternative="less").pvalue)


def difference_ci(a: Sequence[float], b: Sequence[float], conf: float = 0.95) -> dict[str, float]:
    """Welch t-interval of mean(a) − mean(b) over the finite values: ``diff``, ``lo``, ``hi``,
    ``se``, ``df``. NaNs unless each sample has ≥ 2 values; ``lo = hi = diff`` when both
    samples are constant (add any resolution of the measurement yourself)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return {"diff": math.nan, "lo": math.nan, "hi": math.nan, "se": math.nan, "df": math.nan}
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff, se = float(a.mean() - b.mean()), float(math.sqrt(va + vb))
    if se == 0:
        return {"diff": diff, "lo": diff, "hi": diff, "se": 0.0, "df": math.inf}
    df = float((va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)))
    t = float(_st.t.ppf(0.5 + conf / 2, df))
    return {"diff": diff, "lo": diff - t * se, "hi": diff + t * se, "se": se, "df": df}


def slope_ci(x: Sequence[float], y: Sequence[float], conf: float = 0.95) -> dict[str, float]:
    """Least-squares slope of ``y`` on ``x`` over the finite pairs and its t-interval.

    Returns ``slope``, ``lo``, ``hi``, ``se`` and ``n`` (points used); NaNs when fewer than
    3 points or fewer than 2 distinct x (no residual degree of freedom).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    nan = {"slope": math.nan, "lo": math.nan, "hi": math.nan, "se": math.nan, "n": n}
    if n < 3 or np.unique(x).size < 2:
        return nan
    xc = x - x.mean()
    slope = float((xc * (y - y.mean())).sum() / (xc**2).sum())
    resid = y - y.mean() - slope * xc
    se = float(math.sqrt((resid**2).sum() / (n - 2) / (xc**2).sum()))
    t = float(_st.t.ppf(0.5 + conf / 2, n - 2))
    return {"slope": slope, "lo": slope - t * se, "hi": slope + t * se, "se": se, "n": n}


def fraction_fields(name: str, k: int, n: int) -> dict[str, Any]:
    """``{name: "k/n", name_fraction: k/n, name_ci95: [lo, hi]}`` (Clopper–Pearson) for a
    claim's ``measured``; the fraction is NaN when n = 0."""
    lo, hi = clopper_pearson(k, n)
    return {
        name: f"{int(k)}/{int(n)}",
        f"{name}_fraction": (k / n) if n else math.nan,
        f"{name}_ci95": [round(lo, 4), round(hi, 4)],
    }
