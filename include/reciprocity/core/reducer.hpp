#pragma once

namespace reciprocity {

/// The one collective operation a model needs (docs/method.md section 5): sum an array, in place,
/// over the processes that share a computation. Models are rank-local maths and see only this;
/// mpi::Comm is one (over its ranks), and a Reducer that does nothing serves one process.
class Reducer {
 public:
  virtual ~Reducer() = default;
  /// In-place sum of `data[0..count)` over the processes; the same result on every one.
  virtual void sum(double* data, int count) const = 0;
};

/// The Reducer of one process (or of data every process holds whole): the sum is the value.
class NoReduction final : public Reducer {
 public:
  void sum(double*, int) const override {}
};

}  // namespace reciprocity
