"""reciprocity_tools.metrics against the definitions (docs/method.md section 2), computed here
independently: brute force over the candidate alphas, numpy's statistics. (Against the engine's
/summary for several beta and n: tests/cli/test_metrics_agree.sh.)"""
import math

import numpy as np
import pytest
from reciprocity_tools import metrics


def reciprocity_by_definition(i, o):
    """r = min(|I|,|O|)/max(|I|,|O|) if I and O are both positive or both negative, 1 if both 0, else 0."""
    if i == 0 and o == 0:
        return 1.0
    if (i > 0 and o > 0) or (i < 0 and o < 0):
        return min(abs(i), abs(o)) / max(abs(i), abs(o))
    return 0.0


def alpha_by_definition(r, beta):
    """The largest alpha among the r_i with r_i >= alpha for at least a fraction beta."""
    r = np.asarray(r)
    return max(a for a in r if np.count_nonzero(r >= a) >= beta * len(r) - 1e-9)


def flows(n, seed):
    """Flows with zeros, ties, opposite signs and negative values."""
    rng = np.random.default_rng(seed)
    i = rng.lognormal(0, 1, n) * rng.choice([1.0, 1.0, -1.0], n)
    o = i * rng.lognormal(0, 0.7, n) * rng.choice([1.0, 1.0, 1.0, -1.0], n)
    if n >= 5:
        i[1], o[1] = i[0], o[0]
        i[2] = o[2] = 0.0
        o[3] = 0.0
    return i, o


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 10, 20, 101])
def test_reciprocity_is_its_definition(n):
    i, o = flows(n, n)
    want = [reciprocity_by_definition(a, b) for a, b in zip(i, o)]
    assert np.array_equal(metrics.reciprocity(i, o), want)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 10, 20, 101])
@pytest.mark.parametrize("beta", [0.1, 0.5, 0.6, 0.75, 0.8, 0.9, 0.95, 1.0])
def test_alpha_at_beta_is_its_definition(n, beta):
    r = metrics.reciprocity(*flows(n, 7 * n))
    assert metrics.alpha_at_beta(r, beta) == alpha_by_definition(r, beta)


def test_alpha_of_nothing_is_nan():
    assert math.isnan(metrics.alpha_at_beta([], 0.75))


@pytest.mark.parametrize("n", [2, 3, 10, 50])
def test_pearson_negative_fraction_percentile_means(n):
    i, o = flows(n, 3 * n)
    assert metrics.pearson(i, o) == pytest.approx(np.corrcoef(i, o)[0, 1], rel=1e-12)
    assert metrics.negative_fraction(i) == np.count_nonzero(i < 0) / np.count_nonzero(i)
    for q in (10, 50, 80, 95):
        assert metrics.percentile(np.append(i, np.nan), q) == pytest.approx(np.percentile(i, q), rel=1e-12)
    assert metrics.finite_mean(np.append(o, np.inf)) == pytest.approx(o.mean(), rel=1e-12)
    assert metrics.finite_sd(o) == pytest.approx(o.std(ddof=1), rel=1e-12)
    f = metrics.flow_figures(i, o, 0.75)
    assert f["alpha"] == alpha_by_definition(metrics.reciprocity(i, o), 0.75)


def test_degenerate_cases():
    assert math.isnan(metrics.pearson([1.0], [2.0]))
    assert math.isnan(metrics.pearson([1.0, 1.0], [2.0, 3.0]))
    assert metrics.negative_fraction([0.0, 0.0]) == 0.0
    assert math.isnan(metrics.percentile([np.nan], 50))
    assert math.isnan(metrics.finite_mean([np.nan]))
    assert metrics.finite_sd([3.0]) == 0.0
