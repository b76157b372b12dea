// End to end CLIP-LIT and CLIP-LIT-Latent training on the fixture photos with the tiny CLIP models, under
// mpirun -np 1 and 2: guidance initialisation, warm-up, three rounds with their intermediate results and two
// refinements (3- then 4-image tuples), replicas checked identical at every step. A run that stops in the
// middle of a refinement phase and resumes from its last checkpoint ends exactly where the uninterrupted run ends,
// and so does a run stopped by a signal inside the guidance initialisation, and one resumed after the extensions
// of a guidance phase, which then stops at their maximum.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "dist/communicator.h"
#include "dist/context.h"
#include "dist/stop_signal.h"
#include "io/checkpoint.h"
#include "launch/trainer.h"
#include "tests/support/run_files.h"
#include "tests/support/run_watch.h"
#include "tests/support/test_support.h"

namespace rave::launch {
namespace {

namespace fs = std::filesystem;

// 3 initialisation steps; 2 warm-up steps; rounds of 3 enhancer steps each followed by 3 refinement steps;
// 11 enhancer steps end with round 3's enhancer phase: 3 + 11 + 3 + 3 = 20 iterations.
constexpr int64_t kIterations = 20;
// Iteration 16 is the second step of round 2's refinement (3 + 2 + 3 + 3 + 3 + 2).
constexpr int64_t kInterruptedAt = 16;

TrainerOptions tiny(const std::string& method, const fs::path& run_dir) {
  const fs::path fixtures = test::fixtures_dir(), data = fixtures.parent_path() / "data";
  TrainerOptions o;
  o.method = method;
  o.backlit = (data / "backlit").string();
  o.welllit = (data / "welllit").string();
  o.clip = (fixtures / "clip/tiny_vit_state.h5").string();
  o.clip_identity = (fixtures / "clip/tiny_rn_state.h5").string();
  o.clip_lit.vocab = (fixtures / "clip/bpe_simple_vocab_16e6.txt.gz").string();
  o.run_dir = run_dir.string();
  o.max_steps = 11;
  o.batch_size = 2;
  o.image_size = 48;
  o.loader_threads = 1;
  o.backend = "mpi";
  o.checkpoint_every = 1;  // a checkpoint after every step of any kind
  o.keep_checkpoints = 100;
  o.sample_every = 100;
  o.check_sync_every = 1;  // throws if the replicas (enhancer or pair) ever differ
  o.learning_rate = 1e-3;
  o.schedule.reconstruction_steps = 2;
  o.schedule.round_steps = 3;
  o.schedule.display_every = 2;
  o.clip_lit.schedule.init_steps = 3;
  o.clip_lit.schedule.refine_steps = 3;
  // The losses of barely trained models stay above the thresholds (90, 60) for long: no +60 / +100 extensions
  // in a test this short (the schedule test covers them).
  o.schedule.extension_threshold = 1e9;
  o.clip_lit.schedule.extension_threshold = 1e9;
  o.clip_lit.batch_size = 2;
  o.clip_lit.image_size = 32;  // 256 in the reference: the intermediate results dominate a run this short
  o.clip_lit.learning_rate = 1e-2;
  return o;
}

// What a run stopped by a crash just after `iteration` leaves on disk: the uninterrupted run's files up to then.
void copy_as_interrupted(const fs::path& from, const fs::path& to, int64_t iteration, int64_t round) {
  fs::copy(from, to, fs::copy_options::recursive);
  for (const auto& entry : fs::directory_iterator(to / "checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && std::stoll(name.substr(5, 8)) > iteration) fs::remove(entry.path());
  }
  for (const auto& entry : fs::directory_iterator(to / "results")) {
    if (std::stoll(entry.path().filename().string().substr(5)) > round) fs::remove_all(entry.path());
  }
  const std::vector<nlohmann::json> lines = test::metrics_lines(from);
  std::ofstream out(to / "metrics.jsonl", std::ios::trunc);
  for (int64_t i = 0; i < iteration; ++i) out << lines[size_t(i)].dump() << '\n';
}

class ClipLitTrainer : public testing::TestWithParam<std::string> {};

TEST_P(ClipLitTrainer, RunsAllPhasesAndResumesInsideARefinement) {
  RAVE_REQUIRE_FIXTURES();
  const std::string method = GetParam();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-" + method);

  ASSERT_EQ(train(context, tiny(method, root / "straight")), 0);
  if (context.is_root()) copy_as_interrupted(root / "straight", root / "resumed", kInterruptedAt, 2);
  comm->barrier();
  TrainerOptions resumed = tiny(method, root / "resumed");
  resumed.resume = "auto";
  ASSERT_EQ(train(context, resumed), 0);

  if (context.is_root()) {
    const fs::path straight = root / "straight";
    const auto interrupted = io::Checkpoint::read(test::checkpoint_at(straight, kInterruptedAt).string());
    EXPECT_EQ(interrupted.stage, "refinement");
    EXPECT_EQ(interrupted.round, 2);
    EXPECT_EQ(interrupted.at("clip_lit/step_in_phase").item<int64_t>(), 2);

    const auto a = io::Checkpoint::read(test::checkpoint_at(straight, kIterations).string());
    const auto b = io::Checkpoint::read(test::checkpoint_at(root / "resumed", kIterations).string());
    EXPECT_EQ(a.method, method);
    EXPECT_EQ(a.at("trainer/step").item<int64_t>(), 11);
    EXPECT_EQ(a.at("trainer/round").item<int64_t>(), 4);  // round 3's enhancer phase is over
    test::expect_same_tensors(a, b);

    // The pair and its optimiser are in the checkpoint, and the pair has learned.
    const std::string parameter = method == "clip-lit" ? "prompt_embedding" : "guidance_embeddings";
    const torch::Tensor learned = a.at("guidance/" + parameter);
    EXPECT_EQ(learned.dim(), method == "clip-lit" ? 3 : 2);
    EXPECT_GT(a.tensors.count("optimizer/guidance/exp_avg/" + parameter), 0u);
    const auto first = io::Checkpoint::read(test::checkpoint_at(straight, 1).string());
    EXPECT_FALSE(torch::equal(first.at("guidance/" + parameter), learned));
    if (method == "clip-lit") {
      EXPECT_FALSE(torch::equal(learned[0], learned[1]));  // the identical initial prompts have separated
    }

    // One metrics line per iteration, phases in the planned order; refinements with 3- then 4-image tuples.
    for (const fs::path& run : {straight, root / "resumed"}) {
      const std::vector<nlohmann::json> lines = test::metrics_lines(run);
      ASSERT_EQ(int64_t(lines.size()), kIterations) << run;
      const std::map<std::string, char> letters{
          {"guidance-init", 'I'}, {"reconstruction", 'W'}, {"guided", 'E'}, {"refinement", 'R'}};
      std::string stages;
      for (size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["step"], int64_t(i) + 1);
        const std::string stage = lines[i]["stage"];
        stages += letters.count(stage) ? letters.at(stage) : '?';
        if (stage == "refinement") {
          EXPECT_EQ(lines[i]["tuple_size"], lines[i]["round"] == 1 ? 3 : 4);
        }
      }
      EXPECT_EQ(stages, "IIIWWEEERRREEERRREEE") << run;
    }
    // Intermediate results of every round's best model, the same files after the resume.
    for (int round = 1; round <= 3; ++round) {
      const fs::path folder = straight / "results" / ("round" + std::to_string(round));
      EXPECT_EQ(std::distance(fs::directory_iterator(folder), fs::directory_iterator()), 6) << folder;
      EXPECT_TRUE(fs::exists(straight / "checkpoints" / ("best_round" + std::to_string(round) + ".h5")));
    }
    for (const auto& entry : fs::directory_iterator(straight / "results/round3")) {
      std::ifstream x(entry.path(), std::ios::binary), y(root / "resumed/results/round3" / entry.path().filename(),
                                                          std::ios::binary);
      EXPECT_EQ(std::string(std::istreambuf_iterator<char>(x), {}), std::string(std::istreambuf_iterator<char>(y), {}));
    }
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

TEST(ClipLitTrainerStop, ASignalInsideTheGuidanceInitialisationStopsThereAndTheRunResumes) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-clip-lit-stop");
  const auto options = [&](const std::string& run) {
    TrainerOptions o = tiny("clip-lit-latent", root / run);
    o.clip_lit.schedule.init_steps = 40;  // a long initialisation to stop in; then 2 warm-up and 1 guided step
    o.max_steps = 3;
    return o;
  };
  ASSERT_EQ(train(context, options("straight")), 0);
  int code = -1;
  {
    // Rank 0 alone receives the signal; the others learn of it at the next step boundary.
    std::optional<test::Signaller> signaller;
    if (context.is_root()) signaller.emplace(root / "stopped/metrics.jsonl", 3);
    code = train(context, options("stopped"));
  }
  ASSERT_EQ(code, dist::kExitStopped);
  if (context.is_root()) {
    const auto latest = io::CheckpointFolder(root / "stopped/checkpoints", 100).latest();
    ASSERT_TRUE(latest.has_value());
    const auto stopped = io::Checkpoint::read(latest->string());
    EXPECT_EQ(stopped.stage, "guidance-init");
    EXPECT_GE(stopped.step, 3);
    EXPECT_LT(stopped.step, 40);
    EXPECT_EQ(int64_t(test::metrics_lines(root / "stopped").size()), stopped.step);
  }
  TrainerOptions resumed = options("stopped");
  resumed.resume = "auto";
  ASSERT_EQ(train(context, resumed), 0);
  if (context.is_root()) {
    const auto a = io::Checkpoint::read(test::checkpoint_at(root / "straight", 43).string());
    const auto b = io::Checkpoint::read(test::checkpoint_at(root / "stopped", 43).string());
    test::expect_same_tensors(a, b);
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

// The guidance initialisation's loss always exceeds the threshold -1 here: it gets --max-extensions 2 extensions
// of 2 steps and then ends (3 + 2 + 2 = 7 steps; the reference would extend for ever). A run resumed from the
// checkpoint after step 6, when both extensions were had, ends the phase at step 7 too: the count is in the
// checkpoint (without it the resumed phase would be extended twice more), and it ends bit-identical.
TEST(ClipLitTrainerExtensions, AGuidancePhaseStopsExtendingAtTheMaximumAlsoAcrossAResume) {
  RAVE_REQUIRE_FIXTURES();
  dist::Context context(nullptr, nullptr, {"cpu", 1});
  auto comm = dist::make_communicator(context, "mpi");
  const fs::path root = test::shared_temp_dir(*comm, "rave-clip-lit-extensions");
  const auto options = [&](const std::string& run) {
    TrainerOptions o = tiny("clip-lit-latent", root / run);
    o.clip_lit.schedule.extension_threshold = -1;
    o.clip_lit.schedule.extension_steps = 2;
    o.clip_lit.schedule.max_extensions = 2;
    o.max_steps = 2;  // the warm-up: 7 + 2 iterations
    return o;
  };
  ASSERT_EQ(train(context, options("straight")), 0);
  TrainerOptions resumed = options("resumed");
  resumed.resume = test::checkpoint_at(root / "straight", 6).string();
  ASSERT_EQ(train(context, resumed), 0);
  if (context.is_root()) {
    const auto after_six = io::Checkpoint::read(test::checkpoint_at(root / "straight", 6).string());
    EXPECT_EQ(after_six.stage, "guidance-init");
    EXPECT_EQ(after_six.at("clip_lit/extensions").item<int64_t>(), 2);
    std::string stages;
    for (const auto& line : test::metrics_lines(root / "straight")) {
      stages += line["stage"] == "guidance-init" ? 'I' : 'W';
    }
    EXPECT_EQ(stages, "IIIIIIIWW");
    const auto a = io::Checkpoint::read(test::checkpoint_at(root / "straight", 9).string());
    const auto b = io::Checkpoint::read(test::checkpoint_at(root / "resumed", 9).string());
    test::expect_same_tensors(a, b);
  }
  comm->barrier();
  if (context.is_root()) fs::remove_all(root);
}

INSTANTIATE_TEST_SUITE_P(Methods, ClipLitTrainer, testing::Values("clip-lit", "clip-lit-latent"),
                         [](const auto& info) { return info.param == "clip-lit" ? "ClipLit" : "ClipLitLatent"; });

}  // namespace
}  // namespace rave::launch
