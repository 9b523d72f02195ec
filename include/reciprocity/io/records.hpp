#pragma once
// What one run contributes to a results file: the rows the sweeps produce, the results file
// writes (io/results.hpp) and the journal keeps (io/journal.hpp).
#include <cstdint>
#include <string>
#include <vector>

namespace reciprocity::io {

/// Everything one run contributes to the file; flows cover all N individuals in dense order.
struct RunRecord {
  int split = 0, seed = 0;
  std::vector<double> inflow, outflow, self;          ///< [N]
  std::vector<double> train_loss, discrepancy;        ///< [steps]
  std::vector<double> deploy_loss;                    ///< [steps + 1]
  std::vector<double> individual_deploy_loss;         ///< [N] summed loss of each individual's deployment examples
  double deploy_rmse = 0, deploy_loss_final = 0, deploy_accuracy = 0;
  double train_examples = 0, deploy_examples = 0;
  std::vector<std::uint8_t> train_mask;               ///< [M] when the layout saves masks
  std::vector<double> entity_inflow, entity_outflow, entity_self;  ///< [E] when the layout has entities
  std::vector<double> entity_matrix;                  ///< [E x E] row-major
  int diverged_step = -1;  ///< >= 0: the run diverged at this step; only that is recorded
  /// --second-order (docs/method.md section 13): the in-run Shapley flows to second order [N], the
  /// second-order discrepancy of each step [steps], and with entities their entity flows.
  std::vector<double> second_order_inflow, second_order_outflow, second_order_self;
  std::vector<double> second_order_discrepancy;
  std::vector<double> entity_second_order_inflow, entity_second_order_outflow, entity_second_order_self,
      entity_second_order_matrix;
};

/// One run's entity flows (inflow, outflow, self: [E]; matrix: [E x E] row-major).
struct EntityRows {
  std::vector<double> inflow, outflow, self, matrix;
};

/// One run's flows of an after-run measure (io::AfterRunMeasure: Marginal, ...), as the results
/// file holds them and the journal keeps them.
struct MeasureRecord {
  std::string measure;  ///< AfterRunMeasure::name ("marginal")
  int split = 0, seed = 0;
  std::vector<double> inflow, outflow, self;           ///< [N]
  std::vector<double> inflow_se, outflow_se, self_se;  ///< [N] when the measure has standard errors
  bool has_entities = false;
  EntityRows entities;                                 ///< when the file has entities
  EntityRows entities_se;                              ///< their standard errors (measures with them)
};

/// One per-run dataset [S, R, ...] of a results file and the RunRecord field it holds: a row
/// or a single value (the other member null).
struct RunField {
  const char* path;
  std::vector<double> RunRecord::*row;
  double RunRecord::*value;
};
/// Every per-run dataset of floats, in the file's order: what the results file writes and reads
/// of a run (io/rows.cpp), its digest covers, and the journal keeps (io/journal.cpp).
const std::vector<RunField>& run_fields();

}  // namespace reciprocity::io
