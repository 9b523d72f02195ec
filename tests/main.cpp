// Catch2 runner that brackets the tests with MPI_Init/MPI_Finalize, so serial tests can use
// MPI_COMM_SELF and MPI tests the world communicator.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <mpi.h>

int main(int argc, char* argv[]) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) {
    MPI_Finalize();
    return rc;
  }
  // Only rank 0 reports, so multi-rank output stays readable; every rank runs every test.
  if (rank != 0) session.configData().outputFilename = "/dev/null";
  int failed = session.run();
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed > 0 ? 1 : 0;
}
