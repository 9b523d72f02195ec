// Section m: Marginal retraining throughput, side by side vs one at a time (marginal.hpp).
#include "marginal.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "perf_common.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::bench {

namespace {
constexpr int kPresetSteps = 1198;  // movielens-100k preset (docs/method.md section 8)
constexpr int kPaperSplits = 10;

data::LocalData marginal_data(const std::string& movielens, std::string& name) {
  if (!movielens.empty()) {
    name = "MovieLens 100K";
    return data::load_movielens_part(data::scan_movielens(movielens), 0, 1);
  }
  name = "synthetic 100k ratings, 943 users, 1682 items (MovieLens shape)";
  data::SyntheticSpec s;
  s.users = 943;
  s.items = 1682;
  s.ratings = 100000;
  s.min_per_user = 20;
  s.seed = 3;
  return data::make_synthetic_part(s, data::scan_synthetic(s), 0, 1);
}

/// Per-example deployment losses of each training without one individual, one at a time.
std::vector<std::vector<double>> alone(const data::LocalData& all, const std::vector<std::uint8_t>& mem,
                                       const std::vector<std::int64_t>& group, const model::ModelParams& p,
                                       const train::Schedule& sched, const split::RunKey& key, const mpi::Comm& self) {
  std::vector<std::vector<double>> out;
  auto m = model::make_model(data::Task::Recommender, p);
  for (const auto j : group) {
    auto without = mem;
    for (auto e = all.offsets[j]; e < all.offsets[j + 1]; ++e)
      if (mem[e] == train::kTraining) without[e] = train::kExcluded;
    out.push_back(train::train_with_flows(*m, all, without, sched, key, self, {false, false, true, false})
                      .example_deploy_loss);
  }
  return out;
}
}  // namespace

void marginal_section(const mpi::Comm& comm, const std::string& movielens, int reps, bool quick, bool csv,
                      model::KernelChoice kernels) {
  const MPI_Comm c = comm.get();
  const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
  std::string name;
  const data::LocalData all = marginal_data(movielens, name);
  model::ModelParams p;
  p.rank = 16;
  p.lambda = 0.5;
  p.init_scale = 0.003;
  p.kernels = kernels;
  train::Schedule sched;
  sched.learning_rate = 8.0;
  sched.steps = quick ? 20 : 60;
  const split::RunKey key{20240501ULL, 0, 0};
  const auto mem = train::training_mask(all, 0.8, key);
  std::vector<std::uint8_t> is_train(mem.size());
  for (std::size_t e = 0; e < mem.size(); ++e) is_train[e] = mem[e] == train::kTraining;
  std::vector<std::int64_t> trainers;
  for (std::size_t j = 0; j < all.local_individuals(); ++j)
    for (auto e = all.offsets[j]; e < all.offsets[j + 1]; ++e)
      if (mem[e] == train::kTraining) {
        trainers.push_back(static_cast<std::int64_t>(j));
        break;
      }
  auto model = model::make_model(data::Task::Recommender, p);
  const int lanes = model->retrain_lanes();
  say(c, "\n(m) Marginal retraining throughput: %s, MovieLens preset (k 16, lambda 0.5, init 0.003, lr 8), "
         "%d steps per timed training, %d rank(s) retraining at once, %d reps (order alternates)\n",
      name.c_str(), sched.steps, comm.size(), reps);
  if (lanes < 1) throw std::runtime_error("section m: matrix factorisation has no side-by-side retraining");

  std::vector<double> ratio, side_step, alone_step;
  double mismatches = 0;
  for (int r = 0; r < reps; ++r) {
    std::vector<std::int64_t> group;
    for (int l = 0; l < lanes; ++l)
      group.push_back(trainers[(static_cast<std::size_t>((r * comm.size() + comm.rank()) * lanes + l)) % trainers.size()]);
    double t_side = 0, t_alone = 0;
    std::vector<std::vector<double>> a, b;
    for (int order = 0; order < 2; ++order) {
      MPI_Barrier(c);
      const double t0 = wall();
      if ((order + r) % 2 == 0) {
        a = model->retrain_without(all, is_train, group, key, sched.steps, sched.learning_rate, self);
        t_side = wall() - t0;
      } else {
        b = alone(all, mem, group, p, sched, key, self);
        t_alone = wall() - t0;
      }
    }
    for (std::size_t l = 0; l < group.size(); ++l) mismatches += a[l] == b[l] ? 0 : 1;
    ratio.push_back(t_alone / t_side);
    side_step.push_back(t_side / lanes / sched.steps);
    alone_step.push_back(t_alone / lanes / sched.steps);
  }
  const Spread R = spread(gather_all(ratio, c)), S = spread(gather_all(side_step, c)),
               A = spread(gather_all(alone_step, c));
  double bad = mismatches;
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_DOUBLE, MPI_SUM, c);
  say(c, "    per retraining and step: one at a time %.3f ms (%.3f-%.3f), %d side by side %.3f ms (%.3f-%.3f)\n",
      A.median * 1e3, A.lo * 1e3, A.hi * 1e3, lanes, S.median * 1e3, S.lo * 1e3, S.hi * 1e3);
  say(c, "    throughput ratio side by side / one at a time: %.2f (min %.2f, max %.2f over %d rank x rep samples); "
         "final losses identical: %s\n",
      R.median, R.lo, R.hi, reps * comm.size(), bad == 0 ? "yes" : "NO");

  // Projection: every split retrains each of its ~N training users once, dealt over the ranks,
  // plus one full training per rank; the split's retrainings cost the same per step.
  const auto n = static_cast<double>(trainers.size());
  const double per_rank = std::ceil(n / comm.size());
  const double groups = std::ceil(per_rank / lanes);
  const double split_new = (groups * lanes * S.median + A.median) * kPresetSteps;
  const double split_old = (per_rank * A.median + A.median) * kPresetSteps;
  say(c, "    projected MovieLens Marginal (%d splits x %.0f retrainings, %d steps) on %d rank(s): %.0f s "
         "(%.1f min; one at a time: %.0f s = %.1f min; per split %.0f s vs %.0f s)\n",
      kPaperSplits, n, kPresetSteps, comm.size(), kPaperSplits * split_new, kPaperSplits * split_new / 60,
      kPaperSplits * split_old, kPaperSplits * split_old / 60, split_new, split_old);
  if (csv)
    say(c, "csv,m,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", comm.size(), sched.steps, A.median, S.median,
        R.median, R.lo, R.hi, kPaperSplits * split_new, kPaperSplits * split_old);
}

}  // namespace reciprocity::bench
