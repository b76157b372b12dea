// main() of the MPI test programs: one dist::Context for the whole program, GoogleTest output from rank 0
// only, and a failure on any rank fails the program on every rank. CTest passes --world-size=N, the -np it gave
// mpirun: a launcher that started N single-rank jobs instead of one job of N ranks fails here, instead of every
// multi-rank test passing as a world of one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dist/communicator.h"
#include "dist/context.h"

namespace {

// N of --world-size=N among the arguments GoogleTest left, or 0 when it is absent.
int expected_world_size(int argc, char** argv) {
  constexpr const char* kFlag = "--world-size=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, std::strlen(kFlag)) == 0) return std::atoi(argv[i] + std::strlen(kFlag));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  rave::dist::Context context(&argc, &argv, {"cpu", 1});
  const int expected = expected_world_size(argc, argv);
  if (expected > 0 && context.world_size() != expected) {
    std::fprintf(stderr, "rank %d: launched as %d ranks, but this MPI job has %d\n", context.rank(), expected,
                 context.world_size());
    return 1;
  }
  if (context.rank() != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const bool failed = RUN_ALL_TESTS() != 0;
  auto failures = torch::full({1}, failed ? 1.0 : 0.0, torch::kFloat64);
  rave::dist::make_communicator(context, "mpi")->all_reduce_sum(failures);
  if (failed) std::fprintf(stderr, "rank %d: tests failed\n", context.rank());
  return failures.item<double>() > 0 ? 1 : 0;
}
