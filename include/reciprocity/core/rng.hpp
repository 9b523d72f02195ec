#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace reciprocity {

/// Counter-based randomness: every random quantity (split membership, batch membership,
/// initial parameters) is a pure function of a tuple of integers, so it is identical on any
/// number of ranks and in any order of evaluation (docs/method.md section 4).
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Hash of a tuple of integers (order matters).
inline std::uint64_t hash_key(std::initializer_list<std::uint64_t> key) {
  std::uint64_t h = 0x2545f4914f6cdd1dULL;
  for (std::uint64_t k : key) h = mix64(h ^ mix64(k));
  return h;
}

/// Uniform double in [0, 1) from a hash.
inline double to_unit(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

/// Standard normal from two independent hashes (Box-Muller).
inline double to_normal(std::uint64_t h1, std::uint64_t h2) {
  const double u1 = (static_cast<double>(h1 >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = to_unit(h2);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// Domain tags so that different random streams never collide.
/// NoiseShared / NoiseLocal: the Gaussian noise of --noise-multiplier (Model::perturb), drawn per
/// (run, step, parameter) for the shared block and the local block. Shapley: the orderings and
/// coalitions of the sampled Shapley and Banzhaf flows (train/shapley.hpp), per (run, unit).
enum class Stream : std::uint64_t {
  Split = 1, Batch = 2, InitUser = 3, InitItem = 4, Synthetic = 5, NoiseShared = 6, NoiseLocal = 7, Shapley = 8
};

/// Standard normal number `index` of the noise of step `step` of run (base_seed, split, seed), in
/// stream `stream` (rank-count independent: a pure function of its arguments).
inline double noise_normal(Stream stream, std::uint64_t base_seed, int split, int seed, int step, std::uint64_t row,
                           std::uint64_t col) {
  const std::uint64_t h = hash_key({static_cast<std::uint64_t>(stream), base_seed, static_cast<std::uint64_t>(split),
                                    static_cast<std::uint64_t>(seed), static_cast<std::uint64_t>(step), row, col});
  return to_normal(mix64(h), mix64(h ^ 0x5bd1e995ULL));
}

}  // namespace reciprocity
