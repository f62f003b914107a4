"""Intervals, exact tests and power of ghostmech.stats against closed forms and sums."""

import math
from itertools import product

import numpy as np
import pytest

from ghostmech import stats


def _binom_pmf(k, n, p):
    return math.comb(n, k) * p**k * (1 - p) ** (n - k)


def test_clopper_pearson_closed_forms_at_the_ends():
    # k = 0: upper = 1 − (α/2)^(1/n); k = n: lower = (α/2)^(1/n)
    lo, hi = stats.clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    lo, hi = stats.clopper_pearson(7, 7)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 7), rel=1e-9)
    assert stats.clopper_pearson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("k", "n"), [(3, 10), (11, 12), (1, 25)])
def test_clopper_pearson_bounds_solve_the_binomial_tails(k, n):
    lo, hi = stats.clopper_pearson(k, n)
    # P(X ≥ k | lo) = 0.025 and P(X ≤ k | hi) = 0.025, summed by hand
    assert sum(_binom_pmf(j, n, lo) for j in range(k, n + 1)) == pytest.approx(0.025, rel=1e-6)
    assert sum(_binom_pmf(j, n, hi) for j in range(k + 1)) == pytest.approx(0.025, rel=1e-6)


def test_wilson_matches_its_formula_and_is_inside_clopper_pearson():
    k, n, z = 4, 20, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert stats.wilson(k, n) == pytest.approx((centre - half, centre + half), rel=1e-9)
    cp = stats.clopper_pearson(k, n)
    assert cp[0] <= stats.wilson(k, n)[0] and stats.wilson(k, n)[1] <= cp[1]


def test_interval_coverage_is_at_least_95_percent():
    """Exact coverage of Clopper–Pearson (≥ 95 % by construction) summed over all outcomes."""
    n = 15
    for p in (0.05, 0.3, 0.5, 0.9):
        cover = sum(
            _binom_pmf(k, n, p)
            for k in range(n + 1)
            if stats.clopper_pearson(k, n)[0] <= p <= stats.clopper_pearson(k, n)[1]
        )
        assert cover >= 0.95


def test_binomial_greater_is_the_upper_tail():
    assert stats.binomial_greater(9, 10, 0.5) == pytest.approx(11 / 1024)
    assert stats.binomial_greater(0, 10, 0.5) == pytest.approx(1.0)
    assert stats.binomial_greater(6, 6, 0.5) == pytest.approx(1 / 64)
    assert stats.binomial_critical(10, 0.5) == 9  # P(X ≥ 8) = 0.055 > 0.05
    assert stats.binomial_critical(3, 0.5) == 4  # 3/3 (p = 0.125) can never pass
    with pytest.raises(ValueError, match="`k`"):
        stats.binomial_greater(11, 10, 0.5)


def test_binomial_power_sums_the_rejection_region():
    n, p1 = 20, 0.9
    k = stats.binomial_critical(n, 0.5)
    want = sum(_binom_pmf(j, n, p1) for j in range(k, n + 1))
    assert stats.binomial_power(n, 0.5, p1) == pytest.approx(want)
    assert stats.binomial_power(n, 0.5, 0.5) <= 0.05  # size of the test


def test_fisher_greater_is_the_hypergeometric_tail():
    # 5/10 rescued vs 0/10: P = C(10,5)C(10,0)/C(20,5)
    assert stats.fisher_greater(5, 10, 0, 10) == pytest.approx(252 / 15504)
    # 3/4 vs 0/12: 3 successes in 16, group 1 draws 4: P(all 3 in group 1) = C(13,1)/C(16,4)
    assert stats.fisher_greater(3, 4, 0, 12) == pytest.approx(13 / math.comb(16, 4))
    assert stats.fisher_greater(0, 10, 5, 10) == pytest.approx(1.0)  # wrong direction
    assert stats.fisher_greater(3, 5, 0, 0) == 1.0  # an empty group decides nothing


@pytest.mark.parametrize("n1, p1, n2, p2", [(6, 0.6, 5, 0.1), (14, 0.38, 9, 0.05)])
def test_fisher_power_by_enumeration(n1, p1, n2, p2):
    want = 0.0
    for a, b in product(range(n1 + 1), range(n2 + 1)):
        if stats.fisher_greater(a, n1, b, n2) <= 0.05:
            want += _binom_pmf(a, n1, p1) * _binom_pmf(b, n2, p2)
    assert stats.fisher_power(n1, p1, n2, p2) == pytest.approx(want)
    assert stats.fisher_power(n1, 0.3, n2, 0.3) <= 0.05  # no effect: at most the size


def test_slope_ci_recovers_a_planted_slope_and_covers_it():
    rng = np.random.default_rng(0)
    x = np.log(np.repeat([5.0, 8.0, 12.0], 6))
    hits = 0
    for _ in range(400):
        y = 1.0 - 2.0 * x + rng.normal(0, 0.3, x.size)
        r = stats.slope_ci(x, y)
        hits += r["lo"] <= -2.0 <= r["hi"]
    assert 0.92 <= hits / 400 <= 0.98  # the t-interval's 95 % coverage
    exact = stats.slope_ci([1, 2, 3], [2, 4, 6])
    assert exact["slope"] == pytest.approx(2.0) and exact["lo"] == pytest.approx(2.0)


def test_slope_ci_needs_three_points_and_two_x():
    assert math.isnan(stats.slope_ci([1, 2], [1, 2])["slope"])
    assert math.isnan(stats.slope_ci([1, 1, 1], [1, 2, 3])["slope"])
    assert stats.slope_ci([1, 2, np.nan, 3], [1, 2, 5, 3])["n"] == 3


def test_fraction_fields():
    f = stats.fraction_fields("trapped", 3, 4)
    assert f["trapped"] == "3/4" and f["trapped_fraction"] == 0.75
    lo, hi = f["trapped_ci95"]
    assert lo < 0.75 < hi
    assert math.isnan(stats.fraction_fields("x", 0, 0)["x_fraction"])


def test_rank_sum_less_is_the_exact_permutation_tail():
    """No ties, 3 vs 4: the p-value is the share of the C(7, 3) splits whose rank sum of the
    first group is at most the observed one."""
    from itertools import combinations

    a, b = [1.0, 2.0, 5.0], [3.0, 4.0, 6.0, 7.0]
    observed = 1 + 2 + 5
    sums = [sum(c) for c in combinations(range(1, 8), 3)]
    want = sum(x <= observed for x in sums) / len(sums)
    assert stats.rank_sum_less(a, b) == pytest.approx(want)
    assert stats.rank_sum_less(b, a) > 0.5  # the other direction
    assert stats.rank_sum_less([5.0, 5.0], [5.0, 5.0]) == 1.0


def test_difference_ci_is_welch():
    a, b = [1.0, 2.0, 3.0, 4.0], [0.0, 0.5, 1.0]
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 3
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 2)
    from scipy.stats import t

    half = t.ppf(0.975, df) * math.sqrt(va + vb)
    r = stats.difference_ci(a, b)
    assert r["diff"] == pytest.approx(2.0) and r["df"] == pytest.approx(df)
    assert (r["lo"], r["hi"]) == pytest.approx((2.0 - half, 2.0 + half))
    assert stats.difference_ci([1.0, 1.0], [0.0, 0.0])["lo"] == 1.0  # constant: no spread
    assert math.isnan(stats.difference_ci([1.0], [0.0, 1.0])["diff"])


def test_poisson_binomial_tail_is_the_sum_over_all_outcomes():
    """P(K ≥ k) by enumerating all 2ⁿ outcomes of independent Bernoulli(pᵢ)."""
    p = [0.1, 0.35, 0.5, 0.8, 0.02]
    for k in range(len(p) + 1):
        brute = sum(
            math.prod(pi if b else 1 - pi for pi, b in zip(p, bits, strict=True))
            for bits in product([0, 1], repeat=len(p))
            if sum(bits) >= k
        )
        assert stats.poisson_binomial_greater(k, p) == pytest.approx(brute, rel=1e-12, abs=1e-15)


def test_poisson_binomial_with_equal_probabilities_is_the_binomial_tail():
    for k in (0, 3, 9, 12):
        assert stats.poisson_binomial_greater(k, [0.3] * 12) == pytest.approx(
            stats.binomial_greater(k, 12, 0.3), rel=1e-10
        )
    with pytest.raises(ValueError, match="probabilities"):
        stats.poisson_binomial_greater(1, [0.5, 1.5])
