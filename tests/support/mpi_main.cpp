// main() of the MPI test programs: one dist::Context for the whole program, GoogleTest output from rank 0
// only, and a failure on any rank fails the program on every rank.
#include <gtest/gtest.h>

#include "dist/context.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  rave::dist::Context context(&argc, &argv, {"cpu", 1});
  if (context.rank() != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (failed) std::fprintf(stderr, "rank %d: tests failed\n", context.rank());
  return any_failed;
}
