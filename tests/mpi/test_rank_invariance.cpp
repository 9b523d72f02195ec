// Rank-count invariance of train_with_flows (docs/method.md section 5): every rank trains its share
// of the individuals on MPI_COMM_WORLD; the gathered flows, parameters and per-step series must
// equal a single-rank run (MPI_COMM_SELF on rank 0) up to reduction rounding. Run by CTest on
// 1, 2, 3 and 4 ranks. Only values identical on every rank are REQUIREd.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace {

using namespace reciprocity;
using Vec = std::vector<double>;
using Mask = std::vector<std::uint8_t>;

double unit3(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return to_unit(hash_key({a, b, c}));
}

/// 40 users, 30 items, 600 ratings with skewed user activity; the first 40 ratings visit every
/// user (so dense ids follow user order) and every item. Repeated (user, item) pairs occur.
data::Dataset mf_dataset() {
  const int users = 40, items = 30, ratings = 600;
  data::Dataset ds;
  ds.task = data::Task::Recommender;
  ds.source = "rank-invariance mf";
  for (int a = 0; a < users; ++a) ds.individual_ids.push_back(500 + a);
  for (int b = 0; b < items; ++b) ds.item_ids.push_back(900 + b);
  for (int e = 0; e < ratings; ++e) {
    const auto ue = static_cast<std::uint64_t>(e);
    int a = e, b = e % items;
    if (e >= users) {
      const double u = unit3(71, ue, 0);
      a = std::min(users - 1, static_cast<int>(users * u * u));  // heavy on low ids
      b = static_cast<int>(items * unit3(71, ue, 1));
    }
    ds.individual.push_back(a);
    ds.item.push_back(b);
    ds.label.push_back(1.0 + std::floor(5.0 * unit3(71, ue, 2)));
    ds.time.push_back(1000 + static_cast<std::int64_t>(200 * unit3(71, ue, 3)));  // many ties
  }
  return ds;
}

/// `rows` rows, 3 features, `per_individual` rows per individual (individual = e % N).
data::Dataset glm_dataset(bool logistic, int rows, int per_individual) {
  data::Dataset ds;
  ds.task = logistic ? data::Task::Classification : data::Task::Regression;
  ds.source = "rank-invariance glm";
  ds.num_features = 3;
  const int n_ind = rows / per_individual;
  for (int i = 0; i < n_ind; ++i) ds.individual_ids.push_back(i);
  for (int e = 0; e < rows; ++e) {
    const auto ue = static_cast<std::uint64_t>(e);
    const double x0 = 2.0 * unit3(33, ue, 0) - 1.0, x1 = 5.0 + unit3(33, ue, 1),
                 x2 = 10.0 * unit3(33, ue, 2);
    ds.features.insert(ds.features.end(), {x0, x1, x2});
    const double s = 2.0 * x0 - 1.5 * (x1 - 5.5) + 0.2 * (x2 - 5.0) + unit3(33, ue, 3) - 0.5;
    ds.label.push_back(logistic ? (s > 0 ? 1.0 : 0.0) : 10.0 + s);
    ds.individual.push_back(e % n_ind);
  }
  return ds;
}

/// Mask of the local examples: the project's split, or an example-level hash split.
using MaskFn = std::function<Mask(const data::LocalData&, const split::RunKey&)>;

Mask project_mask(const data::LocalData& local, const split::RunKey& key) {
  return train::training_mask(local, 0.8, key);
}

/// The time-ordered split over the ranks that share `local` (WORLD for the distributed run,
/// SELF for rank 0's whole copy): time_cut is collective over the communicator of the data.
MaskFn time_mask(split::Order order) {
  return [order](const data::LocalData& local, const split::RunKey& key) {
    const bool whole = static_cast<std::int64_t>(local.size()) == local.num_examples && local.first_individual == 0 &&
                       local.last_individual == local.num_individuals;
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const auto comm = mpi::Comm::borrow(whole && size > 1 ? MPI_COMM_SELF : MPI_COMM_WORLD);
    split::Rule rule;
    rule.order = order;
    if (order == split::Order::kTime) rule.cut = train::time_cut(local, 0.8, comm);
    return train::training_mask(local, 0.8, key, rule);
  };
}

Mask example_hash_mask(const data::LocalData& local, const split::RunKey&) {
  Mask m(local.size());
  for (std::size_t e = 0; e < local.size(); ++e)
    m[e] = unit3(5, static_cast<std::uint64_t>(local.example[e]), 0) < 0.7;
  return m;
}

struct Flat {
  Vec inflow, outflow, self, shared, local_block, series;
};

/// Per-step series, all global: train loss, deploy loss, step TracIn, discrepancy, final metrics.
Vec series_of(const train::RunOutput& out) {
  Vec s;
  s.insert(s.end(), out.train_loss.begin(), out.train_loss.end());
  s.insert(s.end(), out.deploy_loss.begin(), out.deploy_loss.end());
  s.insert(s.end(), out.step_tracin.begin(), out.step_tracin.end());
  s.push_back(out.deploy_rmse);
  s.push_back(out.deploy_loss_final);
  s.push_back(std::isnan(out.deploy_accuracy) ? -1.0 : out.deploy_accuracy);  // NaN: not classification
  s.push_back(static_cast<double>(out.train_examples));
  s.push_back(static_cast<double>(out.deploy_examples));
  return s;
}

double max_abs(const Vec& a) {
  double m = 0;
  for (double x : a) m = std::max(m, std::abs(x));
  return m;
}

/// Max |a - b| / scale, infinite on a size mismatch.
double rel_diff(const Vec& a, const Vec& b, double scale) {
  if (a.size() != b.size()) return HUGE_VAL;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m / std::max(scale, 1e-300);
}

/// Trains on `world` and on MPI_COMM_SELF (rank 0), compares on rank 0, and returns the verdict
/// (identical on every rank) with rank 0's explanation.
std::pair<int, std::string> check_invariance(const data::Dataset& ds, const MaskFn& make_mask,
                                             const model::ModelParams& params,
                                             const train::Schedule& sched, const split::RunKey& key) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);

  // Distributed run.
  const data::LocalData local = data::distribute(ds, world.rank(), world.size());
  const Mask mask = make_mask(local, key);
  auto model = model::make_model(ds.task, params);
  const auto out = train::train_with_flows(*model, local, mask, sched, key, world);
  const Vec params_now = model->parameters();
  const std::size_t P = model->shared_size();
  const Vec shared(params_now.begin(), params_now.begin() + static_cast<std::ptrdiff_t>(P));
  const Vec local_block(params_now.begin() + static_cast<std::ptrdiff_t>(P), params_now.end());

  Flat dist;
  dist.inflow = world.gather_concat(out.inflow, 0);
  dist.outflow = world.gather_concat(out.outflow, 0);
  dist.self = world.gather_concat(out.self, 0);
  dist.shared = world.gather_concat(shared, 0);        // every rank's replica, concatenated
  dist.local_block = world.gather_concat(local_block, 0);
  dist.series = world.gather_concat(series_of(out), 0);  // every rank's copy, concatenated

  int fail = 0;
  std::ostringstream why;
  if (world.rank() == 0) {
    // Single-rank reference.
    const data::LocalData all = data::distribute(ds, 0, 1);
    const Mask all_mask = make_mask(all, key);
    auto ref_model = model::make_model(ds.task, params);
    const auto ref = train::train_with_flows(*ref_model, all, all_mask, sched, key, self_comm);
    const Vec ref_params = ref_model->parameters();
    const Vec ref_shared(ref_params.begin(), ref_params.begin() + static_cast<std::ptrdiff_t>(P));
    const Vec ref_local(ref_params.begin() + static_cast<std::ptrdiff_t>(P), ref_params.end());
    const Vec ref_series = series_of(ref);

    const double flow_scale = std::max({max_abs(ref.inflow), max_abs(ref.outflow), max_abs(ref.self)});
    auto test = [&](const char* what, double d) {
      why << what << " rel diff " << d << "; ";
      if (!(d < 1e-9)) fail = 1;
    };
    if (flow_scale == 0) {
      fail = 1;
      why << "all reference flows are zero; ";
    }
    test("inflow", rel_diff(dist.inflow, ref.inflow, flow_scale));
    test("outflow", rel_diff(dist.outflow, ref.outflow, flow_scale));
    test("self", rel_diff(dist.self, ref.self, flow_scale));
    test("local params", rel_diff(dist.local_block, ref_local, std::max(max_abs(ref_local), 1.0)));
    Vec shared_rep, series_rep;
    for (int r = 0; r < world.size(); ++r) {
      shared_rep.insert(shared_rep.end(), ref_shared.begin(), ref_shared.end());
      series_rep.insert(series_rep.end(), ref_series.begin(), ref_series.end());
    }
    test("shared params", rel_diff(dist.shared, shared_rep, std::max(max_abs(ref_shared), 1.0)));
    test("series", rel_diff(dist.series, series_rep, std::max(max_abs(ref_series), 1.0)));
    // Discrepancy separately: NaN where the deployment loss did not move.
    double dd = 0;
    for (std::size_t t = 0; t < ref.discrepancy.size(); ++t) {
      const double a = out.discrepancy[t], b = ref.discrepancy[t];
      if (std::isnan(a) != std::isnan(b)) dd = HUGE_VAL;
      else if (!std::isnan(b)) dd = std::max(dd, std::abs(a - b) / (1.0 + std::abs(b)));
    }
    // The discrepancy divides by a loss difference: allow its cancellation error.
    why << "discrepancy abs diff " << dd << "; ";
    if (!(dd < 1e-6)) fail = 1;
  }
  const int any = world.allreduce_max(fail);
  std::string text = why.str();
  world.broadcast(text, 0);
  return {any, text + "(" + std::to_string(world.size()) + " ranks)"};
}

model::ModelParams mf_params() {
  model::ModelParams p;
  p.rank = 4;
  p.lambda = 0.1;
  p.init_scale = 0.3;
  return p;
}

}  // namespace

TEST_CASE("mpi: matrix-factorisation flows do not depend on the rank count", "[mpi]") {
  const auto ds = mf_dataset();
  const split::RunKey key{2024, 1, 3};
  SECTION("full batch") {
    const auto [fail, why] = check_invariance(ds, project_mask, mf_params(), {6, 0.05, 1.0}, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("mini-batch") {
    const auto [fail, why] = check_invariance(ds, project_mask, mf_params(), {8, 0.05, 0.5}, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("single pass") {
    train::Schedule s{8, 0.05, 1.0};
    s.batches = train::Schedule::Batches::kSinglePass;
    const auto [fail, why] = check_invariance(ds, project_mask, mf_params(), s, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("clipped and noised gradients (DP-SGD)") {
    // User rows' noise is drawn by global user, item rows' the same on every rank.
    auto p = mf_params();
    p.clip = 0.5;
    for (double batch : {1.0, 0.5}) {
      train::Schedule s{6, 0.05, batch};
      s.noise_std = 0.8 * p.clip;
      const auto [fail, why] = check_invariance(ds, project_mask, p, s, key);
      INFO("batch fraction " << batch << ": " << why);
      REQUIRE(fail == 0);
    }
  }
  SECTION("time-ordered splits") {
    for (auto order : {split::Order::kTime, split::Order::kTimePerUser}) {
      const auto [fail, why] = check_invariance(ds, time_mask(order), mf_params(), {6, 0.05, 1.0}, key);
      INFO((order == split::Order::kTime ? "time: " : "time-per-user: ") << why);
      REQUIRE(fail == 0);
    }
  }
}

TEST_CASE("mpi: the time cut is the same on every rank count and splits the ratings by time", "[mpi]") {
  // Against a brute-force sort of all (time, example id) pairs on rank 0.
  const auto ds = mf_dataset();
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const data::LocalData local = data::distribute(ds, world.rank(), world.size());
  for (double fraction : {0.8, 0.5, 0.01, 0.999}) {
    const split::TimeCut cut = train::time_cut(local, fraction, world);
    split::Rule rule;
    rule.order = split::Order::kTime;
    rule.cut = cut;
    const Mask mask = train::training_mask(local, fraction, {1, 0, 0}, rule);
    std::vector<double> trained_ids;
    for (std::size_t e = 0; e < local.size(); ++e)
      if (mask[e]) trained_ids.push_back(static_cast<double>(local.example[e]));
    const auto all_trained = world.gather_concat(trained_ids, 0);
    int fail = 0;
    if (world.rank() == 0) {
      std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
      for (std::size_t e = 0; e < ds.size(); ++e) pairs.emplace_back(ds.time[e], static_cast<std::int64_t>(e));
      std::sort(pairs.begin(), pairs.end());
      const auto K = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(ds.size())));
      const auto k = std::clamp<std::size_t>(K, 1, ds.size() - 1);
      std::vector<double> expected;
      for (std::size_t q = 0; q < k; ++q) expected.push_back(static_cast<double>(pairs[q].second));
      std::vector<double> got = all_trained;
      std::sort(expected.begin(), expected.end());
      std::sort(got.begin(), got.end());
      fail = got != expected;
    }
    INFO("fraction " << fraction << ", " << world.size() << " ranks");
    REQUIRE(world.allreduce_max(fail) == 0);
  }
}

TEST_CASE("mpi: linear-regression flows do not depend on the rank count", "[mpi]") {
  const auto ds = glm_dataset(false, 60, 1);
  const split::RunKey key{77, 2, 1};
  SECTION("full batch") {
    const auto [fail, why] = check_invariance(ds, project_mask, {}, {6, 0.05, 1.0}, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("mini-batch") {
    const auto [fail, why] = check_invariance(ds, project_mask, {}, {8, 0.05, 0.5}, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("single pass") {
    train::Schedule s{8, 0.05, 1.0};
    s.batches = train::Schedule::Batches::kSinglePass;
    const auto [fail, why] = check_invariance(ds, project_mask, {}, s, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
  SECTION("clipped and noised gradients (DP-SGD)") {
    model::ModelParams p;
    p.clip = 0.5;
    train::Schedule s{6, 0.05, 1.0};
    s.noise_std = 0.8 * p.clip;
    const auto [fail, why] = check_invariance(ds, project_mask, p, s, key);
    INFO(why);
    REQUIRE(fail == 0);
  }
}

TEST_CASE("mpi: GLM self-influence with several rows per individual does not depend on the rank count", "[mpi]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 60, 3);  // 20 individuals x 3 rows
    for (double frac : {1.0, 0.5}) {
      INFO("batch fraction " << frac);
      const auto [fail, why] =
          check_invariance(ds, example_hash_mask, {}, {6, logistic ? 0.3 : 0.05, frac}, {8, 0, 2});
      INFO(why);
      REQUIRE(fail == 0);
    }
  }
}
