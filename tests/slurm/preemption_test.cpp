// Stopping on a signal (dist/stop_signal.h) under mpirun -np 1 and 2: SIGUSR1 sent to rank 0 alone in the middle of
// a tiny run stops every rank after the same step, with a complete checkpoint and the exit code kExitStopped, and
// the run resumed from that checkpoint ends with exactly the parameters of an uninterrupted run. Synthetic scenes
// and the weight-free encoders keep the test free of fixtures.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/stop_signal.h"
#include "io/checkpoint.h"
#include "io/synth_scenes.h"
#include "launch/trainer.h"
#include "tests/support/run_watch.h"
#include "tests/support/test_support.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSteps = 12;

TrainerOptions tiny(const fs::path& data, const fs::path& run_dir) {
  TrainerOptions o;
  o.backlit = (data / "train/backlit").string();
  o.welllit = (data / "train/welllit").string();
  o.clip = "photometric";
  o.clip_identity = "pixels";
  o.run_dir = run_dir.string();
  o.max_steps = kSteps;
  o.batch_size = 2;
  o.image_size = 32;
  o.loader_threads = 1;
  o.backend = "mpi";
  o.checkpoint_every = 100;  // only the stop's and the final checkpoint
  o.sample_every = 100;
  o.check_sync_every = 1;    // throws if the replicas ever differ
  o.learning_rate = 1e-4;
  o.schedule.reconstruction_steps = 4;
  o.schedule.round_steps = 5;
  return o;
}

TEST(Preemption, SignalStopsEveryRankWithACheckpointAndResumeEndsOnTheUninterruptedTrajectory) {
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-preemption");
  if (context.is_root()) io::write_scene_set({root / "data", 8, 32, 0, 0.0});
  comm->barrier();

  ASSERT_EQ(train(context, tiny(root / "data", root / "straight")), 0);
  int code = -1;
  {
    // Rank 0 alone receives the signal: the others learn of it at the next step boundary.
    std::optional<test::Signaller> signaller;
    if (context.is_root()) signaller.emplace(root / "interrupted/metrics.jsonl", 3);
    code = train(context, tiny(root / "data", root / "interrupted"));
  }
  ASSERT_EQ(code, dist::kExitStopped);
  int64_t stopped_at = 0;
  if (context.is_root()) {
    const auto latest = io::CheckpointFolder(root / "interrupted/checkpoints", 3).latest();
    ASSERT_TRUE(latest.has_value());
    stopped_at = io::Checkpoint::read(latest->string()).step;
    EXPECT_GE(stopped_at, 3);
    EXPECT_LT(stopped_at, kSteps);
    EXPECT_EQ(test::count_lines(root / "interrupted/metrics.jsonl"), stopped_at);
  }

  TrainerOptions resumed = tiny(root / "data", root / "interrupted");
  resumed.resume = "auto";
  ASSERT_EQ(train(context, resumed), 0);
  if (context.is_root()) {
    const auto a = io::Checkpoint::read((root / "straight/checkpoints/step_00000012.h5").string());
    const auto b = io::Checkpoint::read((root / "interrupted/checkpoints/step_00000012.h5").string());
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, tensor] : a.tensors) {
      ASSERT_TRUE(b.tensors.count(name)) << name;
      EXPECT_TRUE(torch::equal(tensor, b.tensors.at(name))) << name << " (stopped at step " << stopped_at << ")";
    }
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

TEST(Preemption, DecisionNamesTheSignalsAndTheirRanks) {
  EXPECT_FALSE(dist::StopDecision{}.stop());
  EXPECT_EQ((dist::StopDecision{1, 0}.describe(2)), "SIGUSR1 on 1 of 2 rank(s)");
  EXPECT_EQ((dist::StopDecision{1, 2}.describe(3)), "SIGUSR1 on 1 of 3 rank(s) and SIGTERM on 2 of 3 rank(s)");
  EXPECT_TRUE((dist::StopDecision{0, 0, 1}.stop()));
  EXPECT_EQ((dist::StopDecision{0, 0, 1}.describe(1)), "SIGINT on 1 of 1 rank(s)");
}

}  // namespace
}  // namespace rave::launch
