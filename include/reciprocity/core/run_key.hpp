#pragma once
#include <cstdint>

namespace reciprocity {

/// Identifies one run: split index and initialisation (seed) index, under a base seed. The
/// split draws the train/deployment sets from it (split/), the model its initialisation
/// (model/): both use it, neither depends on the other.
struct RunKey {
  std::uint64_t base_seed = 0;
  int split = 0;
  int seed = 0;
};

}  // namespace reciprocity
