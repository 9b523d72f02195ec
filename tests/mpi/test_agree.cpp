// mpi::agree on 1-4 ranks: a failure on some ranks becomes, on every rank, the error of the
// lowest failing rank, of the same kind (hence exit status) and message; no failure, no throw.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/mpi/comm.hpp"

using namespace reciprocity;

namespace {
/// The exit status and message each rank ends with after agreeing on `local`.
std::pair<int, std::string> outcome_of(const mpi::Outcome& local, const mpi::Comm& comm) {
  try {
    mpi::agree(local, comm);
    return {0, ""};
  } catch (const Error& e) {
    return {exit_status_of(e), e.what()};
  }
}
}  // namespace

TEST_CASE("agree: nobody failed, nobody throws", "[mpi][agree]") {
  const auto world = mpi::Comm::duplicate(MPI_COMM_WORLD);
  CHECK(outcome_of({}, world) == std::pair<int, std::string>{0, ""});
}

TEST_CASE("agree: the last rank fails alone, every rank gets its kind and message", "[mpi][agree]") {
  const auto world = mpi::Comm::duplicate(MPI_COMM_WORLD);
  const int last = world.size() - 1;
  const auto local = world.rank() == last ? mpi::Outcome{4, "disk full on rank " + std::to_string(last)}
                                          : mpi::Outcome{};
  const auto got = outcome_of(local, world);
  CHECK(got.first == 4);
  CHECK(got.second == "disk full on rank " + std::to_string(last));
}

TEST_CASE("agree: several ranks fail with different kinds, the lowest failing rank wins", "[mpi][agree]") {
  const auto world = mpi::Comm::duplicate(MPI_COMM_WORLD);
  // Ranks 1, 2, 3 fail (with statuses 3, 6, 8); on 1 rank only rank 0, which fails with 2.
  mpi::Outcome local;
  if (world.size() == 1) local = {2, "bad option"};
  else if (world.rank() >= 1) local = {world.rank() == 1 ? 3 : world.rank() == 2 ? 6 : 8, "rank " + std::to_string(world.rank())};
  const auto got = outcome_of(local, world);
  if (world.size() == 1) {
    CHECK(got == std::pair<int, std::string>{2, "bad option"});
  } else {
    CHECK(got == std::pair<int, std::string>{3, "rank 1"});
  }
}

TEST_CASE("agreed: an exception in the body on one rank is rethrown with its kind everywhere", "[mpi][agree]") {
  const auto world = mpi::Comm::duplicate(MPI_COMM_WORLD);
  int status = 0;
  std::string message;
  try {
    mpi::agreed(world, [&] {
      if (world.rank() == 0) throw NumericError("loss is NaN at step 3", 3);
    });
  } catch (const Error& e) {
    status = exit_status_of(e);
    message = e.what();
  }
  CHECK(status == 6);
  CHECK(message == "loss is NaN at step 3");
  // A std::exception that is not an Error still ends every rank, with status 1.
  try {
    mpi::agreed(world, [&] {
      if (world.rank() == world.size() - 1) throw std::runtime_error("bad_alloc-like");
    });
    status = 0;
  } catch (const Error& e) {
    status = exit_status_of(e);
  }
  CHECK(status == 1);
}

TEST_CASE("exit_status_of and throw_with_status are inverses", "[agree]") {
  for (int s = 1; s <= 8; ++s) {
    try {
      throw_with_status(s, "m");
    } catch (const Error& e) {
      CHECK(exit_status_of(e) == s);
      CHECK(std::string(e.what()) == "m");
    }
  }
}
