// The results file's layout, declared once (include/reciprocity/io/schema.hpp). `reciprocity
// --describe schema` prints it (app/describe_schema.cpp: src/io/README.md's tables, the Python
// tools' layout); tests/cli/test_schema.sh holds the files the program writes equal to it.
#include "reciprocity/io/schema.hpp"

#include <algorithm>
#include <array>

#include <stdexcept>

namespace reciprocity::io {

hid_t native_type(Element e) {
  switch (e) {
    case Element::f64: return H5T_NATIVE_DOUBLE;
    case Element::u8: return H5T_NATIVE_UINT8;
    case Element::i64: return H5T_NATIVE_INT64;
  }
  return H5T_NATIVE_DOUBLE;
}

const char* element_name(Element e) {
  switch (e) {
    case Element::f64: return "float64";
    case Element::u8: return "uint8";
    case Element::i64: return "int64";
  }
  return "?";
}

std::string presence_name(const DatasetSchema& d) {
  switch (d.when) {
    case Presence::always: return "always";
    case Presence::individual_loss: return "individual_loss";
    case Presence::save_mask: return "save_mask";
    case Presence::measure: return d.measure;
    case Presence::summary: return "summary";
    case Presence::summary_measure: return "summary_" + d.measure;
    case Presence::entities: return "entities";
    case Presence::entity_measure: return "entity_" + d.measure;
    case Presence::arrival: return "arrival";
    case Presence::digest: return "digest";
    case Presence::measure_digest: return d.measure + "_digest";
    case Presence::second_order: return "second_order";
    case Presence::entity_second_order: return "entity_second_order";
    case Presence::summary_second_order: return "summary_second_order";
  }
  return "?";
}

const char* attribute_type_name(AttributeType t) {
  switch (t) {
    case AttributeType::text: return "text";
    case AttributeType::boolean: return "bool";
    case AttributeType::integer: return "int64";
    case AttributeType::unsigned_integer: return "uint64";
    case AttributeType::real: return "float64";
  }
  return "?";
}

// Units: "loss" (the model's per-example loss: squared error of the rating or label, or log
// loss in nats), "label" (the rating's or label's own units), "1" (dimensionless: fractions,
// ratios, flags), "count", "step", "percent", "" (identifiers and indices).

std::vector<Dimension> make_dimensions() {
  std::vector<Dimension> d = {
      {"split", "/split", true, Element::i64, "",
       "index s of the random train/deployment split (with config_seed it decides which examples train)"},
      {"seed", "/seed", true, Element::i64, "",
       "index r of the initialisation within a split (with the split it decides initial parameters and batches)"},
      {"individual", "/individual", true, Element::i64, "",
       "original id of the individual (MovieLens user id; health and csv: row number or id column), in the order of "
       "every per-individual array"},
      {"step", "/step", true, Element::i64, "step",
       "gradient-descent step t, the update from w_t to w_t+1 (t = 0..T-1)"},
      {"iterate", "/iterate", true, Element::i64, "step",
       "t of the parameters w_t (t = 0..T: w_0 initial, w_T after the last step)"},
      {"example", "/example", false, Element::u8, "", "example (rating or row) of the data set, in file order"},
      {"entity", "/entity", true, Element::i64, "",
       "index e of the entity (--entities), in the order of the sorted names of the root attribute entity_names "
       "(one per line); the training side of /flows/entity/matrix"},
      {"deployment_entity", "/deployment_entity", true, Element::i64, "",
       "index f of the entity whose deployment examples receive the flow (columns of /flows/entity/matrix)"},
      {"percentile", "/summary/percentile", true, Element::f64, "percent", "percentile over the steps of all runs used"},
      {"scalar", "/summary/scalar", false, Element::u8, "", "the one entry of a single figure"},
      {"run", "/summary/run", true, Element::i64, "",
       "run index split * R + seed of each run the TracIn single-run figures use", true},
  };
  d.push_back({"shapley_inrun_run", "/summary/shapley_inrun_run", true, Element::i64, "",
               "run index split * R + seed of each run the in-run Shapley single-run figures use", true});
  for (const auto& m : after_run_measures())
    d.push_back({m.name + "_run", "/summary/" + m.name + "_run", true, Element::i64, "",
                 "run index split * R + seed of each run the " + m.title + " single-run figures use", true});
  return d;
}

const std::vector<Dimension>& dimensions() {
  static const std::vector<Dimension> d = make_dimensions();
  return d;
}

const Dimension& dimension(const std::string& name) {
  for (const auto& d : dimensions())
    if (d.name == name) return d;
  throw std::out_of_range("undeclared dimension " + name);
}

namespace {
using P = Presence;
const std::vector<std::string> kRun = {"split", "seed"};
const std::vector<std::string> kRunIndividual = {"split", "seed", "individual"};
const std::vector<std::string> kRunStep = {"split", "seed", "step"};

void add_flows(std::vector<DatasetSchema>& out, const std::string& kind, const std::string& title, Presence when,
               const std::string& measure = "", const std::string& how = "") {
  const std::string group = "/flows/" + kind + "/";
  out.push_back({group + "inflow", Element::f64, kRunIndividual, "loss",
                 title + " inflow I_i of each run: what other individuals' training data did for i's deployment loss" +
                     how,
                 when, 0, measure});
  out.push_back({group + "outflow", Element::f64, kRunIndividual, "loss",
                 title + " outflow O_i of each run: what i's training data did for other individuals' deployment loss" +
                     how,
                 when, 0, measure});
  out.push_back({group + "self", Element::f64, kRunIndividual, "loss",
                 title + " self-influence S_i of each run: i's training data on i's own deployment loss" + how, when, 0,
                 measure});
}

/// The standard errors of a sampled measure's flows (AfterRunMeasure::standard_errors), of
/// individuals or (`entity`) of entities.
void add_standard_errors(std::vector<DatasetSchema>& out, const AfterRunMeasure& m, bool entity) {
  const std::vector<std::string> run_entity = {"split", "seed", "entity"};
  for (const char* flow : {"inflow", "outflow", "self", "matrix"}) {
    if (!entity && std::string(flow) == "matrix") continue;
    std::vector<std::string> dims = entity ? run_entity : kRunIndividual;
    if (std::string(flow) == "matrix") dims.push_back("deployment_entity");
    out.push_back({"/flows/" + std::string(entity ? "entity_" : "") + m.name + "/" + flow + "_se", Element::f64, dims,
                   "loss",
                   m.title + " standard error of each run's sampled " + (entity ? "entity " : "") + flow +
                       " (of the sampling within the run, not across runs; 0 where computed exactly)",
                   entity ? Presence::entity_measure : Presence::measure, 0, m.name});
  }
}

/// The entity flows of one kind under `group`: inflow, outflow, self [split, seed, entity] and the
/// matrix [split, seed, entity, deployment_entity], described by `what` in that order.
void add_entity_flows(std::vector<DatasetSchema>& out, const std::string& group, const std::array<std::string, 4>& what,
                      Presence when, const std::string& measure = "") {
  const std::vector<std::string> run_entity = {"split", "seed", "entity"};
  const char* names[] = {"inflow", "outflow", "self"};
  for (int k = 0; k < 3; ++k)
    out.push_back({group + names[k], Element::f64, run_entity, "loss", what[k], when, 0, measure});
  out.push_back({group + "matrix", Element::f64, {"split", "seed", "entity", "deployment_entity"}, "loss", what[3], when,
                 0, measure});
}

/// The summary figures of one flow kind (prefix "" for TracIn, "marginal_" for Marginal).
void add_summary(std::vector<DatasetSchema>& out, const std::string& prefix, const std::string& title,
                 Presence when, const std::string& measure = "") {
  const std::vector<std::string> ind = {"individual"}, one = {"scalar"}, run = {prefix + "run"};
  auto add = [&](const std::string& name, const std::vector<std::string>& dims, const std::string& units,
                 const std::string& what) {
    out.push_back({"/summary/" + prefix + name, Element::f64, dims, units, title + ": " + what, when, 0, measure});
  };
  add("mean_inflow", ind, "loss", "inflow of each individual averaged over the runs used");
  add("mean_outflow", ind, "loss", "outflow of each individual averaged over the runs used");
  add("reciprocity", ind, "1", "reciprocity of each individual's mean inflow and outflow (in expectation)");
  add("alpha", one, "1", "alpha at beta in expectation: a fraction beta of the individuals has reciprocity >= alpha");
  add("correlation", one, "1", "Pearson correlation of the mean inflows and outflows across individuals");
  add("negative_inflow_fraction", one, "1", "fraction of the nonzero mean inflows that are negative");
  add("negative_outflow_fraction", one, "1", "fraction of the nonzero mean outflows that are negative");
  add("single_run_alpha", run, "1", "alpha at beta of each run used");
  add("single_run_correlation", run, "1", "Pearson correlation of inflows and outflows in each run used");
  add("single_run_negative_inflow_fraction", run, "1", "fraction of the nonzero inflows that are negative, each run used");
  add("single_run_negative_outflow_fraction", run, "1",
      "fraction of the nonzero outflows that are negative, each run used");
  add("runs_used", one, "count", "number of runs the figures use");
  add("snr_inflow", ind, "1",
      "SNR |mean|/sd of each individual's inflow across runs (conditional: the runs where it is deployed, where "
      "individuals are split; NaN where undefined)");
  add("snr_outflow", ind, "1",
      "SNR of each individual's outflow across runs (conditional: the runs where it trains, where individuals are "
      "split; NaN where undefined)");
  add("snr_inflow_all_runs", ind, "1", "SNR of each individual's inflow over all runs, zeros included (NaN: undefined)");
  add("snr_outflow_all_runs", ind, "1",
      "SNR of each individual's outflow over all runs, zeros included (NaN: undefined)");
}

std::vector<DatasetSchema> make_datasets() {
  std::vector<DatasetSchema> d = {
      {"/individuals/id", Element::i64, {"individual"}, "",
       "original id of each individual (the coordinate /individual; kept for readers of earlier files)", P::always},
      {"/individuals/arrival", Element::i64, {"individual"}, "s",
       "time of each individual's first rating (its arrival; Unix seconds, the data's timestamps), written with a "
       "time-ordered split (--split-order time or time-per-user)", P::arrival},
  };
  add_flows(d, "tracin", "TracIn", P::always);
  const std::vector<DatasetSchema> runs = {
      {"/runs/train_loss", Element::f64, kRunStep, "loss", "mean training loss (with regulariser) over the batch at w_t",
       P::always},
      {"/runs/discrepancy", Element::f64, kRunStep, "1",
       "first-order discrepancy of step t: (TracIn's predicted drop - actual drop of the deployment loss) / actual "
       "drop (NaN where the loss did not change, or t is not a checkpoint)",
       P::always},
      {"/runs/deploy_loss", Element::f64, {"split", "seed", "iterate"}, "loss",
       "mean deployment loss at w_t, t = 0..T", P::always},
      {"/runs/deploy_rmse", Element::f64, kRun, "label",
       "deployment RMSE at the end of the run (classification: square root of the Brier score)", P::always},
      {"/runs/deploy_loss_final", Element::f64, kRun, "loss", "mean deployment loss at the end of the run", P::always},
      {"/runs/deploy_accuracy", Element::f64, kRun, "1", "deployment accuracy (NaN unless classification)", P::always},
      {"/runs/train_examples", Element::f64, kRun, "count", "number of training examples |T|", P::always},
      {"/runs/deploy_examples", Element::f64, kRun, "count", "number of deployment examples |D|", P::always},
      {"/runs/complete", Element::u8, kRun, "1", "1 once the run's rows are all written: use only these runs", P::always},
      {"/runs/diverged_step", Element::f64, kRun, "step",
       "step where the run diverged (--on-divergence continue; its rows are not written), else -1", P::always, -1},
      {"/runs/individual_deploy_loss", Element::f64, kRunIndividual, "loss",
       "summed final loss of each individual's deployment examples (0 where it has none)", P::individual_loss},
      {"/splits/train_mask", Element::u8, {"split", "example"}, "1",
       "1 where the example is in the training set of the split (--save-split-mask)", P::save_mask},
  };
  d.insert(d.end(), runs.begin(), runs.end());
  for (const auto& m : after_run_measures()) {
    add_flows(d, m.name, m.title, P::measure, m.name, m.how);
    if (m.standard_errors) add_standard_errors(d, m, false);
  }
  add_entity_flows(d, "/flows/entity/",
                   {"Entity TracIn inflow I_e of each run: what other entities' training data did for e's deployment loss",
                    "Entity TracIn outflow O_e of each run: what e's training data did for other entities' deployment loss",
                    "Entity TracIn self-influence S_e of each run: e's training data on e's own deployment loss (the flows "
                    "between its members included)",
                    "Entity TracIn matrix M[e, f] = sum_t (eta/|B_t|) G^B_e . G^D_f of each run: what entity e's training "
                    "data did for entity f's deployment loss (row sums minus the diagonal: outflows; column sums minus "
                    "the diagonal: inflows; diagonal: self-influence)"},
                   P::entities);
  for (const auto& m : after_run_measures()) {
    add_entity_flows(d, "/flows/entity_" + m.name + "/", m.entity_what, P::entity_measure, m.name);
    if (m.standard_errors) add_standard_errors(d, m, true);
  }
  for (const auto& m : after_run_measures())
    d.push_back({"/runs/" + m.name + "_complete", Element::u8, kRun, "1",
                 "1 once the run's " + m.title + " flows are written", P::measure, 0, m.name});
  d.push_back({"/runs/digest", Element::i64, kRun, "",
               "CRC-32 (zlib) of the run's rows: the datasets named in this dataset's attribute rows, in that order, "
               "each run's row as little-endian float64, one after the other; -1 where not recorded (a run not "
               "complete)",
               P::digest, -1});
  for (const auto& m : after_run_measures())
    d.push_back({"/runs/" + m.name + "_digest", Element::i64, kRun, "",
                 "CRC-32 (zlib) of the run's " + m.title +
                     " rows, as /runs/digest (the datasets named in its attribute rows)",
                 P::measure_digest, -1, m.name});
  add_flows(d, "shapley_inrun", "In-run Shapley (second order)", P::second_order, "",
            " (TracIn's per-step terms plus -(1/2)(eta/|B_t|)^2 G^B_i . H_{D_j} G^B: --second-order)");
  d.push_back({"/runs/second_order_discrepancy", Element::f64, kRunStep, "1",
               "second-order discrepancy of step t: (predicted drop to second order - actual drop of the deployment "
               "loss) / actual drop (NaN as /runs/discrepancy)",
               P::second_order});
  add_entity_flows(d, "/flows/entity_shapley_inrun/",
                   {"Entity in-run Shapley inflow (second order) of each run", "Entity in-run Shapley outflow (second order) of each run",
                    "Entity in-run Shapley self-influence (second order) of each run",
                    "Entity in-run Shapley matrix (second order) of each run: the entity TracIn matrix plus the summed "
                    "second-order terms of e's batch gradients in f's deployment loss"},
                   P::entity_second_order);
  add_summary(d, "", "TracIn", P::summary);
  add_summary(d, "shapley_inrun_", "In-run Shapley (second order)", P::summary_second_order);
  d.push_back({"/summary/second_order_discrepancy_percentiles_50_80_95", Element::f64, {"percentile"}, "1",
               "percentiles of |second-order discrepancy| over the steps of the complete runs", P::summary_second_order});
  for (const auto& m : after_run_measures()) add_summary(d, m.name + "_", m.title, P::summary_measure, m.name);
  const std::vector<DatasetSchema> common = {
      {"/summary/beta", Element::f64, {"scalar"}, "1", "beta of the alpha-at-beta figures", P::summary},
      {"/summary/snr_conditional", Element::f64, {"scalar"}, "1",
       "1 when the SNR figures are conditional (individuals are split), else 0", P::summary},
      {"/summary/discrepancy_percentiles_50_80_95", Element::f64, {"percentile"}, "1",
       "percentiles of |first-order discrepancy| over the steps of the complete runs", P::summary},
      {"/summary/runs_complete", Element::f64, {"scalar"}, "count", "number of complete runs", P::summary},
  };
  d.insert(d.end(), common.begin(), common.end());
  return d;
}

std::vector<AttributeSchema> make_attributes() {
  using T = AttributeType;
  std::vector<AttributeSchema> a = {
      {"format", T::text, "\"reciprocity results\": marks a results file"},
      {"schema_version", T::integer, "version of this layout (absent: 1, files before descriptions and scales)"},
      {"program", T::text, "the program that wrote the file"},
      {"version", T::text, "its version"},
      {"git_revision", T::text, "its source revision"},
      {"command_line", T::text, "the command line that created the file"},
      {"configuration", T::text, "the options that determine the numbers, one `name = value` line each"},
      {"ranks", T::integer, "MPI processes of the job that created the file"},
      {"ranks_per_run", T::integer, "MPI processes that computed each run"},
      {"start_time", T::text, "when the file was created (UTC, ISO 8601)"},
      {"end_time", T::text, "when the last job on the file ended (UTC, ISO 8601)"},
      {"status", T::text, "running | complete | partial: ... | stopped | failed: ..."},
      {"resumed_at", T::text, "when the file was last resumed (UTC, ISO 8601)"},
      {"command_line_resume", T::text, "the command line of the last --resume"},
      {"merged_from", T::text, "the files a --merge combined"},
      {"beta", T::real, "beta of alpha at beta asked for when the file was created"},
      {"task", T::text, "recommender | regression | classification"},
      {"data_source", T::text, "the data read"},
      {"data_fingerprint", T::text, "the input data by content: crc32:<hex>/<bytes> per file read (synthetic: of the generator's specification)"},
      {"data_files", T::text, "the input files read: path, size and CRC-32, one line each"},
      {"splits", T::integer, "S, the length of the split axis"},
      {"seeds", T::integer, "R, the length of the seed axis"},
      {"steps", T::integer, "T, gradient-descent steps of each run"},
      {"individuals", T::integer, "N, the length of the individual axis"},
      {"examples", T::integer, "M, examples in the data set"},
      {"entity_names", T::text, "--entities: the name of each entity, one per line, in entity order"},
      {"entity_sizes", T::text, "--entities: the number of individuals of each entity, space separated"},
      {"entity_source", T::text, "--entities: the file the grouping was read from"},
      {"entity_assignment", T::text,
       "--entities: CRC-32 of the entity name of every individual in individual order (compared by --resume and --merge)"},
  };
  const std::vector<std::pair<const char*, T>> options = {
      {"dataset", T::text}, {"data", T::text}, {"model", T::text}, {"csv-individual", T::boolean},
      {"seed", T::unsigned_integer}, {"train-fraction", T::real}, {"rank", T::integer}, {"lambda", T::real},
      {"init-scale", T::real}, {"steps", T::integer}, {"learning-rate", T::real}, {"batch-fraction", T::real},
      {"flow-interval", T::integer}, {"seeds", T::integer}, {"save-split-mask", T::boolean}, {"marginal", T::boolean},
      {"marginal-splits", T::integer}, {"marginal-step", T::text}, {"entities", T::text}, {"synthetic-users", T::integer},
      {"synthetic-items", T::integer}, {"synthetic-ratings", T::integer}, {"synthetic-rank", T::integer},
      {"batches", T::text}, {"split-order", T::text}, {"clip", T::real}, {"noise-multiplier", T::real},
      {"neighbours", T::integer}, {"shapley", T::text}, {"shapley-splits", T::integer},
      {"shapley-samples", T::integer}, {"shapley-target-se", T::real}, {"second-order", T::boolean},
  };
  for (const auto& [name, type] : options)
    a.push_back({std::string("config_") + name, type, std::string("option --") + name});
  return a;
}
}  // namespace

const std::vector<DatasetSchema>& datasets() {
  static const std::vector<DatasetSchema> d = make_datasets();
  return d;
}

const DatasetSchema* find_dataset(const std::string& path) {
  for (const auto& d : datasets())
    if (d.path == path) return &d;
  return nullptr;
}

const std::vector<AttributeSchema>& root_attributes() {
  static const std::vector<AttributeSchema> a = make_attributes();
  return a;
}

const AttributeSchema* find_attribute(const std::string& name) {
  for (const auto& a : root_attributes())
    if (a.name == name) return &a;
  return nullptr;
}

bool in_layout(const DatasetSchema& d, const Layout& L) {
  switch (d.when) {
    case P::always: return true;
    case P::individual_loss: return L.individual_loss;
    case P::save_mask: return L.save_mask;
    case P::measure: return L.has(d.measure);
    case P::entities: return L.entities > 0;
    case P::entity_measure: return L.entities > 0 && L.has(d.measure);
    case P::arrival: return L.arrival;
    case P::digest: return L.digest;
    case P::measure_digest: return L.digest && L.has(d.measure);
    case P::second_order: return L.second_order;
    case P::entity_second_order: return L.second_order && L.entities > 0;
    default: return false;
  }
}

bool in_summary(const DatasetSchema& d, const Layout& L) {
  return d.when == P::summary || (d.when == P::summary_measure && L.has(d.measure)) ||
         (d.when == P::summary_second_order && L.second_order);
}

hsize_t length(const std::string& name, const Layout& L) {
  auto u = [](std::int64_t v) { return static_cast<hsize_t>(v); };
  if (name == "split") return u(L.splits);
  if (name == "seed") return u(L.seeds);
  if (name == "individual") return u(L.individuals);
  if (name == "step") return u(L.steps);
  if (name == "iterate") return u(L.steps) + 1;
  if (name == "example") return u(L.examples);
  if (name == "entity" || name == "deployment_entity") return u(L.entities);
  if (name == "percentile") return 3;
  if (name == "scalar") return 1;
  if (dimension(name).set_by_summary) throw std::logic_error("the length of " + name + " is set by the summary");
  throw std::out_of_range("undeclared dimension " + name);
}

std::vector<hsize_t> shape(const DatasetSchema& d, const Layout& L) {
  std::vector<hsize_t> s;
  for (const auto& name : d.dims) s.push_back(length(name, L));
  return s;
}

}  // namespace reciprocity::io
