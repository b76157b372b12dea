// Rank, world size and local rank as the launcher sees them (run under mpirun -np 1, 2 and 3).
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/per_rank.h"

namespace rave::dist {
namespace {

int env_or(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

// Under mpirun the launcher's variables say what to expect; started directly, the program is a singleton.
TEST(Context, RankAndSizeMatchTheLauncher) {
  Context context(nullptr, nullptr, {"cpu", 1});  // MPI is already up (mpi_main): this one only reads it
  EXPECT_EQ(context.world_size(), env_or("OMPI_COMM_WORLD_SIZE", 1));
  EXPECT_EQ(context.rank(), env_or("OMPI_COMM_WORLD_RANK", 0));
}

TEST(Context, LocalRanksCoverThisMachine) {
  Context context(nullptr, nullptr, {"cpu", 1});
  // All ranks of a CTest run share this machine: local rank = rank, local size = world size.
  EXPECT_EQ(context.local_rank(), context.rank());
  EXPECT_EQ(context.local_size(), context.world_size());
  EXPECT_EQ(context.local_rank(), env_or("OMPI_COMM_WORLD_LOCAL_RANK", 0));
  const auto local_ranks = gather_rows(*make_communicator(context, "mpi"),
                                       torch::full({1}, double(context.local_rank()), torch::kFloat64));
  for (int r = 0; r < context.world_size(); ++r) EXPECT_EQ(local_ranks[r][0].item<double>(), r);
}

TEST(Context, ThreadsAndDevice) {
  Context automatic(nullptr, nullptr, {"cpu", 0});
  EXPECT_GE(automatic.threads(), 1);
  EXPECT_EQ(automatic.device(), torch::Device(torch::kCPU));
  Context fixed(nullptr, nullptr, {"cpu", 2});
  EXPECT_EQ(fixed.threads(), 2);
  EXPECT_NE(fixed.describe().find("rank " + std::to_string(fixed.rank())), std::string::npos);
}

}  // namespace
}  // namespace rave::dist
