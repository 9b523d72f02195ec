// reciprocity_bench section f: the cost per step of the entity matrix (tools/benchmark/entities.hpp).
#include "entities.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/data/users.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::bench {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void entities_section(const mpi::Comm& world, const std::string& movielens_dir, int steps, int reps) {
  const bool root = world.rank() == 0;
  if (movielens_dir.empty()) {
    if (root) std::printf("\n(f) entity matrix: skipped (no MovieLens 100K directory; --movielens DIR)\n");
    return;
  }
  const data::Dataset ds = data::load_movielens(movielens_dir);
  const data::LocalData local = data::distribute(ds, world.rank(), world.size());
  const split::RunKey key{0, 0, 0};
  const auto mask = train::training_mask(local, 0.8, key);
  // The movielens-100k preset's model; full-batch gradient descent.
  const model::ModelParams params{16, 0.5, 0.003};
  const train::Schedule schedule{steps, 8.0, 1.0};

  struct Case {
    const char* name;
    int entities;
    std::vector<std::int32_t> entity_of;  // of the local individuals
  };
  std::vector<Case> cases;
  cases.push_back({"individual flows", 0, {}});
  auto local_of = [&](const data::Grouping& g) {
    std::vector<std::int32_t> e;
    for (std::size_t i = 0; i < local.local_individuals(); ++i)
      e.push_back(g.entity_of[static_cast<std::size_t>(local.first_individual) + i]);
    return e;
  };
  const auto gender = data::make_grouping("gender", ds.individual_ids, movielens_dir);
  const auto occupation = data::make_grouping("occupation", ds.individual_ids, movielens_dir);
  cases.push_back({"E=2 (gender)", gender.entities(), local_of(gender)});
  cases.push_back({"E=21 (occupation)", occupation.entities(), local_of(occupation)});
  std::vector<std::int32_t> mod100;
  for (std::size_t i = 0; i < local.local_individuals(); ++i)
    mod100.push_back(static_cast<std::int32_t>(ds.individual_ids[static_cast<std::size_t>(local.first_individual) + i] % 100));
  cases.push_back({"E=100 (id mod 100)", 100, mod100});

  if (root)
    std::printf("\n(f) entity matrix on MovieLens 100K (%zu ratings, k=16, full batch), %d rank(s), %d steps, "
                "median of %d\n%-22s %14s %10s\n",
                ds.size(), world.size(), steps, reps, "case", "s/step", "ratio");
  double base = 0;
  for (const auto& c : cases) {
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      auto model = model::make_model(ds.task, params);
      train::Tracking tracking;
      tracking.entities = c.entities;
      tracking.entity_of = &c.entity_of;
      world.barrier();
      const double t0 = now();
      train::train_with_flows(*model, local, mask, schedule, key, world, tracking);
      world.barrier();
      t.push_back((now() - t0) / steps);
    }
    std::sort(t.begin(), t.end());
    const double med = t[t.size() / 2];
    if (base == 0) base = med;
    if (root) std::printf("%-22s %14.6f %10.2f\n", c.name, med, med / base);
  }
}

}  // namespace reciprocity::bench
