#include "reciprocity/mpi/comm.hpp"

#include <climits>
#include <cstdlib>
#include <cstdio>
#include <utility>

#include "reciprocity/core/error.hpp"

namespace reciprocity::mpi {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw MpiError(std::string(what) + ": " + std::string(text, static_cast<size_t>(len)));
}

Environment::Environment(int& argc, char**& argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  // Funneled: rank 0 runs a heartbeat thread for the results file's lock (lock/lock.hpp), which
  // makes no MPI call.
  int provided = 0;
  if (!initialised) MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
}

Environment::~Environment() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

Comm::Comm(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  if (owned_) MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
}

Comm Comm::borrow(MPI_Comm comm) { return Comm(comm, false); }

Comm Comm::duplicate(MPI_Comm comm) {
  MPI_Comm dup = MPI_COMM_NULL;
  check(MPI_Comm_dup(comm, &dup), "duplicating a communicator");
  return Comm(dup, true);
}

Comm::~Comm() {
  if (owned_ && comm_ != MPI_COMM_NULL) {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(&comm_);
  }
}

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      owned_(std::exchange(other.owned_, false)),
      rank_(other.rank_),
      size_(other.size_) {}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    Comm old(std::move(*this));  // frees the previous handle
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    owned_ = std::exchange(other.owned_, false);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

Comm Comm::split(int color, int key) const {
  MPI_Comm out = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, color, key, &out), "splitting a communicator");
  return Comm(out, true);
}

void Comm::allreduce_sum(double* data, int count) const {
  if (size_ == 1) return;
  check(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, comm_), "allreduce (sum)");
}

void Comm::allreduce_sum(long long* data, int count) const {
  if (size_ == 1) return;
  check(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_LONG_LONG, MPI_SUM, comm_),
        "allreduce (sum)");
}

int Comm::allreduce_max(int value) const {
  if (size_ == 1) return value;
  int out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_), "allreduce (max)");
  return out;
}

void Comm::barrier() const { check(MPI_Barrier(comm_), "barrier"); }

void Comm::broadcast(int& value, int root) const {
  check(MPI_Bcast(&value, 1, MPI_INT, root, comm_), "broadcast");
}

void abort_job(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::abort();  // not reached: MPI_Abort does not return
}

void Comm::broadcast(std::string& text, int root) const {
  if (size_ == 1) return;
  long long len = static_cast<long long>(text.size());
  check(MPI_Bcast(&len, 1, MPI_LONG_LONG, root, comm_), "broadcast");
  text.resize(static_cast<size_t>(len));
  check(MPI_Bcast(text.data(), static_cast<int>(len), MPI_CHAR, root, comm_), "broadcast");
}

std::vector<double> Comm::gather_concat(const std::vector<double>& local, int root) const {
  if (size_ == 1) return local;
  int count = static_cast<int>(local.size());
  std::vector<int> counts(rank_ == root ? size_ : 0), displs;
  check(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_), "gather");
  std::vector<double> out;
  if (rank_ == root) {
    displs.resize(size_);
    long long total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[r] = static_cast<int>(total);
      total += counts[r];
    }
    out.resize(static_cast<size_t>(total));
  }
  check(MPI_Gatherv(local.data(), count, MPI_DOUBLE, out.data(), counts.data(), displs.data(),
                    MPI_DOUBLE, root, comm_),
        "gatherv");
  return out;
}

}  // namespace reciprocity::mpi
