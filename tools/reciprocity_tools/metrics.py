"""The figures of docs/method.md section 2, for what the program's /summary does not hold.

The report reads the engine's figures from the file (/summary: reciprocity of the mean flows,
alpha at beta, correlation, negative fractions, single-run figures, SNR). These functions are
the one Python implementation of the same definitions (src/metrics/metrics.cpp,
src/app/summary.cpp), for what must be computed: alpha at a beta other than the summary's, the
reciprocity of one run, of an entity or of a group of individuals, the figures of per-split means
(tools/paper). tests/python/test_metrics.py and tests/cli/test_metrics_agree.sh hold them equal
to the engine's /summary for several beta and numbers of individuals; sums run in the engine's
order (one term after another), so the figures agree to the last bit.
"""

import math

import numpy as np


def seq_sum(x, axis=0):
    """Sum along `axis` adding one term after another, as the engine's loops do (bitwise equal)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[axis] == 0:
        return np.sum(x, axis=axis)
    return np.take(np.cumsum(x, axis=axis), -1, axis=axis)


def finite_mean(values):
    """Mean of the finite values (NaN when none), as the engine's `mean_of`."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return seq_sum(v) / len(v) if len(v) else math.nan


def finite_sd(values):
    """Sample standard deviation of the finite values (0 when fewer than 2), as the engine's `sd_of`."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return 0.0
    m = seq_sum(v) / len(v)
    return math.sqrt(seq_sum((v - m) * (v - m)) / (len(v) - 1))


def reciprocity(inflow, outflow):
    """r = min(|I|,|O|)/max(|I|,|O|) when I and O have the same sign, else 0; 1 when both are 0
    (elementwise; the engine's `metrics::reciprocity`)."""
    inflow, outflow = np.asarray(inflow, dtype=np.float64), np.asarray(outflow, dtype=np.float64)
    a, b = np.abs(inflow), np.abs(outflow)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.minimum(a, b) / np.maximum(a, b)
    opposite = ((inflow > 0) != (outflow > 0)) | (a == 0) | (b == 0)
    r = np.where(opposite, 0.0, ratio)
    return np.where((a == 0) & (b == 0), 1.0, r)


def alpha_at_beta(r, beta):
    """alpha such that r_i >= alpha for a fraction beta of the n individuals, as the engine's
    `metrics::alpha_at_beta`: the sorted (ascending) r at index n - need, where
    need = max(1, ceil(beta n - 1e-9)) is the smallest count of values that reaches the fraction
    beta (the tolerance keeps decimal betas, 0.9 * 10 = 8.999..., from asking for one too many)."""
    r = np.sort(np.asarray(r, dtype=np.float64))
    n = len(r)
    if n == 0:
        return math.nan
    need = max(1, math.ceil(beta * n - 1e-9))
    return float(r[n - min(need, n)])


def pearson(x, y):
    """Pearson correlation (NaN for fewer than 2 points or a constant variable)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(x)
    if n < 2:
        return math.nan
    dx, dy = x - seq_sum(x) / n, y - seq_sum(y) / n
    sxx, syy = seq_sum(dx * dx), seq_sum(dy * dy)
    if sxx == 0 or syy == 0:
        return math.nan
    return float(seq_sum(dx * dy) / math.sqrt(sxx * syy))


def negative_fraction(x):
    """Fraction of the nonzero values that are negative (0 when all are zero)."""
    x = np.asarray(x)
    nonzero = np.count_nonzero(x != 0)
    return float(np.count_nonzero(x < 0) / nonzero) if nonzero else 0.0


def percentile(x, q):
    """q-th percentile with linear interpolation, non-finite values ignored (NaN when none), as the
    engine's `metrics::percentile`."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan
    pos = q / 100.0 * (len(x) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(x) - 1)
    return float(x[lo] + (pos - lo) * (x[hi] - x[lo]))


def flow_figures(inflow, outflow, beta):
    """alpha at beta, correlation and negative fractions of one set of per-individual flows (the
    engine's `metrics::summarize`)."""
    return {
        "alpha": alpha_at_beta(reciprocity(inflow, outflow), beta),
        "correlation": pearson(inflow, outflow),
        "negative_inflow": negative_fraction(inflow),
        "negative_outflow": negative_fraction(outflow),
    }
