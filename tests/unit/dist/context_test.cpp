#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "dist/context.h"
#include "dist/world_size_check.h"

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

// The error message of check_world_size, or "" when the world passes.
std::string world_size_error(const LaunchEnvironment& launch, int world_size) {
  try {
    check_world_size(launch, world_size);
    return "";
  } catch (const UsageError& e) {
    return std::string(e.what()) + " (hint: " + e.hint() + ")";
  }
}

TEST(WorldSizeCheck, DetectsTheNSingletonsMistakeUnderSrun) {
  const LaunchEnvironment srun{false, 4, "SLURM_STEP_NUM_TASKS"};
  const std::string error = world_size_error(srun, 1);
  EXPECT_NE(error.find("Slurm started 4 tasks (SLURM_STEP_NUM_TASKS=4)"), std::string::npos) << error;
  EXPECT_NE(error.find("N singletons"), std::string::npos) << error;
  EXPECT_NE(error.find("srun --mpi=pmix"), std::string::npos) << error;
  EXPECT_NE(world_size_error(srun, 2).find("MPI sees a world of 2 ranks"), std::string::npos);
  EXPECT_EQ(world_size_error(srun, 4), "");
}

TEST(WorldSizeCheck, DetectsABatchScriptThatForgotSrun) {
  const std::string error = world_size_error({false, 4, "SLURM_NTASKS"}, 1);
  EXPECT_NE(error.find("without srun or mpirun"), std::string::npos) << error;
  EXPECT_NE(error.find("--ntasks=1"), std::string::npos) << error;
}

TEST(WorldSizeCheck, TrustsMpirunAndIgnoresRunsOutsideSlurm) {
  EXPECT_EQ(world_size_error({true, 4, "SLURM_NTASKS"}, 2), "");  // mpirun sized the world itself
  EXPECT_EQ(world_size_error({false, 0, ""}, 3), "");
}

TEST(WorldSizeCheck, ReadsTheStepTaskCountBeforeTheJobs) {
  // Saved and restored: the suite itself may run inside a Slurm job.
  const char* names[] = {"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"};
  std::vector<std::optional<std::string>> saved;
  for (const char* name : names) {
    const char* value = std::getenv(name);
    saved.push_back(value ? std::optional<std::string>(value) : std::nullopt);
  }
  setenv("SLURM_STEP_NUM_TASKS", "3", 1);
  setenv("SLURM_NTASKS", "6", 1);
  const LaunchEnvironment launch = LaunchEnvironment::current();
  EXPECT_EQ(launch.slurm_tasks, 3);
  EXPECT_EQ(launch.slurm_tasks_variable, "SLURM_STEP_NUM_TASKS");
  for (size_t i = 0; i < saved.size(); ++i) {
    if (saved[i]) {
      setenv(names[i], saved[i]->c_str(), 1);
    } else {
      unsetenv(names[i]);
    }
  }
}

}  // namespace
}  // namespace rave::dist
