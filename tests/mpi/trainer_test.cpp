// End to end RAVE training on the fixture photos with the tiny CLIP models, under mpirun -np 1 and 2:
// replicas stay identical, a run interrupted and resumed from its checkpoint ends exactly where the
// uninterrupted run ends, re-initialisation and round extensions behave as ALGORITHMS §4.2.3-4.2.5 (and issue
// 18) say, also across a resume, and a --precision bf16 run trains close to the fp32 one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/error.h"
#include "dist/random.h"
#include "io/checkpoint.h"
#include "launch/trainer.h"
#include "models/enhancer.h"
#include "tests/support/run_watch.h"
#include "tests/support/test_support.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

TrainerOptions tiny(const fs::path& run_dir, int64_t max_steps) {
  const fs::path fixtures = test::fixtures_dir(), data = fixtures.parent_path() / "data";
  TrainerOptions o;
  o.backlit = (data / "backlit").string();
  o.welllit = (data / "welllit").string();
  o.clip = (fixtures / "clip/tiny_vit_state.h5").string();
  o.clip_identity = (fixtures / "clip/tiny_rn_state.h5").string();
  o.run_dir = run_dir.string();
  o.max_steps = max_steps;
  o.batch_size = 2;
  o.image_size = 48;
  o.loader_threads = 1;
  o.backend = "mpi";
  o.checkpoint_every = 3;
  o.sample_every = 4;
  o.check_sync_every = 1;  // throws if the replicas ever differ
  o.learning_rate = 1e-3;  // large enough that 10 steps move the weights visibly
  o.schedule.reconstruction_steps = 4;
  o.schedule.round_steps = 5;
  o.schedule.display_every = 2;  // best-model checks (every 20 steps in the reference) inside this short run
  return o;
}

TEST(Trainer, ResumeContinuesTheUninterruptedTrajectory) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-trainer");

  ASSERT_EQ(train(context, tiny(root / "straight", 10)), 0);
  ASSERT_EQ(train(context, tiny(root / "resumed", 6)), 0);
  TrainerOptions resumed = tiny(root / "resumed", 10);
  resumed.resume = "auto";
  ASSERT_EQ(train(context, resumed), 0);

  if (context.is_root()) {
    const auto a = io::Checkpoint::read((root / "straight/checkpoints/step_00000010.h5").string());
    const auto b = io::Checkpoint::read((root / "resumed/checkpoints/step_00000010.h5").string());
    EXPECT_EQ(a.round, 2);  // 4 warm-up steps, one round of 5, then round 2
    EXPECT_EQ(a.stage, "guided");
    EXPECT_EQ(a.world_size, context.world_size());
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, tensor] : a.tensors) {
      ASSERT_TRUE(b.tensors.count(name)) << name;
      EXPECT_TRUE(torch::equal(tensor, b.tensors.at(name))) << name;
    }
    // The weights did move, and the run left its artefacts.
    const auto first = io::Checkpoint::read((root / "resumed/checkpoints/step_00000010.h5").string());
    EXPECT_TRUE(fs::exists(root / "straight/residual.h5"));
    EXPECT_TRUE(fs::exists(root / "straight/samples/step_8.png"));
    EXPECT_TRUE(fs::exists(root / "straight/checkpoints/best_round1.h5"));
    EXPECT_EQ(test::count_lines(root / "straight/metrics.jsonl"), 10);
    EXPECT_EQ(test::count_lines(root / "resumed/metrics.jsonl"), 10);  // 6 lines, then 4 appended after resume
    EXPECT_GT(first.tensors.count("guidance/residual"), 0u);
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

// Every tensor of two checkpoints equal (same names, bit for bit).
void expect_same_tensors(const io::Checkpoint& a, const io::Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, tensor] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(tensor, b.tensors.at(name))) << name;
  }
}

// A warm-up whose PSNR window is always "below" the threshold: re-initialisation is due after every second step,
// and the best-model check every second step finds a new best at the first one (step 2): one step both snapshots
// and re-initialises.
TrainerOptions reinitialising(const fs::path& run_dir, int64_t max_steps) {
  TrainerOptions o = tiny(run_dir, max_steps);
  o.checkpoint_every = 100;  // only the best-model snapshots and the final checkpoint
  o.schedule.reinit_below_psnr = 1000;
  o.schedule.reinit_patience = 1;
  return o;
}

// ALGORITHMS §4.2.3-4.2.4: the snapshot of a step that is also re-initialised holds the network that earned it
// (the reference saves first), the re-initialised network equals a freshly constructed one, biases included (the
// reference builds a new network), and resuming from that snapshot carries out the pending re-initialisation:
// it ends where the uninterrupted run ends.
TEST(Trainer, ReinitialisationFollowsTheSnapshotAndStartsAFreshNetwork) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-trainer-reinit");
  const TrainerOptions first = reinitialising(root / "first", 2);
  ASSERT_EQ(train(context, first), 0);
  ASSERT_EQ(train(context, reinitialising(root / "straight", 4)), 0);
  TrainerOptions resumed = reinitialising(root / "resumed", 4);
  resumed.resume = (root / "first/checkpoints/best_round0.h5").string();
  ASSERT_EQ(train(context, resumed), 0);

  if (context.is_root()) {
    const auto best = io::Checkpoint::read((root / "first/checkpoints/best_round0.h5").string());
    const auto last = io::Checkpoint::read((root / "first/checkpoints/step_00000002.h5").string());
    EXPECT_EQ(best.step, 2);
    EXPECT_EQ(best.at("trainer/reinitialisations").item<int64_t>(), 0);
    EXPECT_EQ(best.at("trainer/reinitialisation_pending").item<int64_t>(), 1);
    EXPECT_EQ(last.at("trainer/reinitialisations").item<int64_t>(), 1);
    EXPECT_EQ(last.at("trainer/reinitialisation_pending").item<int64_t>(), 0);
    torch::manual_seed(dist::stream_seed(first.seed, 1000 + 1));  // the trainer's seed of its first re-init
    const models::Enhancer fresh(models::EnhancerOptions().cond_padding(torch::kZeros));
    for (const auto& [name, tensor] : models::enhancer_state(fresh)) {
      EXPECT_TRUE(torch::equal(last.tensors.at("enhancer/" + name), tensor)) << name << " is not a fresh network's";
      EXPECT_FALSE(torch::equal(best.tensors.at("enhancer/" + name), tensor)) << name << ": the snapshot is fresh";
    }
    expect_same_tensors(io::Checkpoint::read((root / "straight/checkpoints/step_00000004.h5").string()),
                        io::Checkpoint::read((root / "resumed/checkpoints/step_00000004.h5").string()));
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

// Round 1 (steps 5-9) extends while the extension metric exceeds the threshold, here always, and ends after
// --max-extensions 2 extensions of 2 steps: at step 13. A run stopped at step 11, after the second extension,
// resumes knowing it had them: it ends at step 13 too, bit-identical (without the count it would extend again).
TEST(Trainer, ExtensionsStopAtTheMaximumAlsoAcrossAResume) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-trainer-extensions");
  const auto extending = [&](const std::string& name, int64_t max_steps) {
    TrainerOptions o = tiny(root / name, max_steps);
    o.rounds = 1;
    o.schedule.extension_threshold = -1;
    o.schedule.extension_steps = 2;
    o.schedule.max_extensions = 2;
    return o;
  };
  ASSERT_EQ(train(context, extending("straight", 30)), 0);
  ASSERT_EQ(train(context, extending("resumed", 11)), 0);
  TrainerOptions resumed = extending("resumed", 30);
  resumed.resume = "auto";
  ASSERT_EQ(train(context, resumed), 0);

  if (context.is_root()) {
    const auto stopped = io::Checkpoint::read((root / "resumed/checkpoints/step_00000011.h5").string());
    EXPECT_EQ(stopped.at("trainer/extensions").item<int64_t>(), 2);
    const auto straight = io::Checkpoint::read((root / "straight/checkpoints/step_00000013.h5").string());
    EXPECT_EQ(straight.round, 2);  // round 1 ended there
    EXPECT_EQ(test::count_lines(root / "straight/metrics.jsonl"), 13);
    EXPECT_EQ(test::count_lines(root / "resumed/metrics.jsonl"), 13);
    expect_same_tensors(straight, io::Checkpoint::read((root / "resumed/checkpoints/step_00000013.h5").string()));
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

// The metrics.jsonl lines of a run, parsed.
std::vector<nlohmann::json> metrics(const fs::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> steps;
  for (std::string line; std::getline(in, line);) steps.push_back(nlohmann::json::parse(line));
  return steps;
}

// --precision bf16: the tiny run trains through the warm-up into the guided stage with finite losses, and its
// first loss (same weights, same batch as the fp32 run) is the fp32 one within bf16's precision.
TEST(Trainer, Bf16RunTrainsCloseToFp32) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-trainer-bf16");
  ASSERT_EQ(train(context, tiny(root / "fp32", 6)), 0);
  TrainerOptions bf16 = tiny(root / "bf16", 6);
  bf16.precision = models::Precision::kBFloat16;
  ASSERT_EQ(train(context, bf16), 0);

  if (context.is_root()) {
    const auto fp32_steps = metrics(root / "fp32/metrics.jsonl"), bf16_steps = metrics(root / "bf16/metrics.jsonl");
    ASSERT_EQ(bf16_steps.size(), 6u);
    for (const auto& step : bf16_steps) {
      for (const char* key : {"loss", "guidance_loss", "identity_loss", "psnr_y"}) {
        EXPECT_TRUE(std::isfinite(step[key].get<double>())) << key << " at step " << step["step"];
      }
    }
    EXPECT_EQ(bf16_steps.back()["stage"], "guided");
    EXPECT_GT(bf16_steps.back()["guidance_loss"].get<double>(), 0);
    const double fp32_loss = fp32_steps.front()["loss"], bf16_loss = bf16_steps.front()["loss"];
    EXPECT_NEAR(bf16_loss, fp32_loss, 2e-2 * fp32_loss);  // bf16 keeps 8 bits (0.4 %); measured 0.6 %
    // Master weights stay float32.
    const auto checkpoint = io::Checkpoint::read((root / "bf16/checkpoints/step_00000006.h5").string());
    EXPECT_EQ(checkpoint.tensors.at("enhancer/cond1.weight").scalar_type(), torch::kFloat32);
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

TEST(Trainer, RefusesToResumeWithAnotherMethodOrMissingFolder) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-trainer-errors");
  TrainerOptions missing = tiny(root / "run", 2);
  missing.backlit = (root / "nowhere").string();
  EXPECT_THROW(train(context, missing), Error);
  TrainerOptions other = tiny(root / "run", 2);
  other.method = "clip-lit";
  EXPECT_THROW(train(context, other), UsageError);
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

}  // namespace
}  // namespace rave::launch
