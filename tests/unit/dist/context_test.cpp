#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "dist/context.h"
#include "dist/error.h"

namespace rave::dist {
namespace {

TEST(ThreadsPerRank, SharesTheMachinesCoresAmongItsRanks) {
  EXPECT_EQ(threads_per_rank(16, 4), 4);
  EXPECT_EQ(threads_per_rank(16, 3), 5);
  EXPECT_EQ(threads_per_rank(2, 3), 1);  // oversubscribed: never zero
  EXPECT_EQ(threads_per_rank(8, 0), 8);
}

TEST(ChooseDevice, CpuAndAutoWithoutCuda) {
  EXPECT_EQ(choose_device("cpu", 3), torch::Device(torch::kCPU));
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(choose_device("auto", 1), torch::Device(torch::kCPU));
    EXPECT_THROW(choose_device("cuda:0", 0), UsageError);
  }
}

TEST(ChooseDevice, RejectsUnknownNames) { EXPECT_THROW(choose_device("tpu", 0), UsageError); }

}  // namespace
}  // namespace rave::dist
