#pragma once
#include <vector>

namespace reciprocity::metrics {

/// r_i = min(|I|,|O|) / max(|I|,|O|) when I and O have the same sign, 0 otherwise, 1 when
/// both are 0 (docs/method.md section 2).
double reciprocity(double inflow, double outflow);

/// Largest alpha such that at least a fraction beta of the values are >= alpha: the sorted
/// sorted (ascending) value at index n - ceil(beta n). NaN for an empty input.
double alpha_at_beta(std::vector<double> r, double beta);

/// Pearson correlation; NaN when either side has zero variance or n < 2.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

/// Fraction of the nonzero values that are negative (0 when all are zero).
double negative_fraction(const std::vector<double>& x);

/// Linear-interpolation percentile q in [0, 100] of the finite values (NaN if none).
double percentile(std::vector<double> x, double q);

/// The headline figures of one set of per-individual flows.
struct Summary {
  double alpha = 0;              ///< alpha at beta (default 0.75)
  double correlation = 0;        ///< Pearson(I, O)
  double negative_inflow = 0;    ///< fraction of nonzero inflows that are negative
  double negative_outflow = 0;   ///< fraction of nonzero outflows that are negative
  double mean_reciprocity = 0;
  double total_inflow = 0, total_outflow = 0;
};
Summary summarize(const std::vector<double>& inflow, const std::vector<double>& outflow,
                  double beta = 0.75);

}  // namespace reciprocity::metrics
