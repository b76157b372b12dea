// The rave binary end to end: import a published checkpoint, enhance a photo the way the authors' inference
// does (resized like the long512 fixture) and compare with their PNG; --light-map, --format same, unreadable
// files, and two MPI ranks splitting a folder.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/image.h"
#include "tests/support/test_support.h"

namespace rave {
namespace {

namespace fs = std::filesystem;

// The rave binary with `arguments`.
test::CommandResult run(const std::string& arguments) {
  return test::run_command(std::string(RAVE_BINARY) + " " + arguments);
}

class Enhance : public testing::Test {
 protected:
  void SetUp() override {
    if (test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)";
    checkpoint_ = (dir_ / "rave_paired.h5").string();
    // Recorded as trained with zeros padding, as the authors trained it and as rave train records its checkpoints.
    const auto imported = run("import --from " + (test::fixtures_dir() / "enhancer/rave_paired.pth").string() +
                              " --to " + checkpoint_ + " --padding zeros");
    ASSERT_EQ(imported.code, 0) << imported.output;
  }

  test::ScratchDir dir_;
  std::string checkpoint_;
};

// The authors run every model with reflect padding whatever it was trained with (their inference.py), and so
// does rave enhance by default: a checkpoint that records zeros (training) is enhanced as published.
TEST_F(Enhance, MatchesThePublishedInferenceOnAPhoto) {
  const fs::path photo = test::fixtures_dir() / "../data/backlit/c5b8b4070688114c602b27933c6699b6.jpg";
  const auto result = run("enhance --threads 1 --checkpoint " + checkpoint_ + " --input " + photo.string() +
                          " --output " + (dir_ / "out").string() + " --max-side 512 --light-map");
  ASSERT_EQ(result.code, 0) << result.output;
  EXPECT_NE(result.output.find("cond* padding reflect; trained with zeros"), std::string::npos) << result.output;
  const auto ours = io::read_image_u8((dir_ / "out/c5b8b4070688114c602b27933c6699b6.png").string()).to(torch::kInt32);
  const fs::path published = test::fixtures_dir() / "enhancer/png" /
                              "long512__rave_paired__c5b8b4070688114c602b27933c6699b6.png";
  const auto reference = io::read_image_u8(published.string()).to(torch::kInt32);
  ASSERT_EQ(ours.sizes(), reference.sizes());  // 512x342: the PIL-exact resize of the fixture
  const auto difference = (ours - reference).abs();
  // Float rounding can move a value across a .5 boundary of the 8-bit rounding, nothing more.
  EXPECT_LE(difference.max().item<int>(), 1);
  EXPECT_LT(difference.to(torch::kFloat64).mean().item<double>(), 1e-3);
  const auto light = io::read_image_u8((dir_ / "out/c5b8b4070688114c602b27933c6699b6_light.png").string());
  EXPECT_EQ(light.size(0), 512);
  EXPECT_EQ(light.size(1), 342);

  // --padding zeros runs the network as trained: its light map collapses at the borders (ALGORITHMS §2.7: the
  // corner falls from 0.77 to 0.11 on the test vector), which blow out toward white; the interior stays as it was.
  const auto zeros = run("enhance --threads 1 --padding zeros --checkpoint " + checkpoint_ + " --input " +
                         photo.string() + " --output " + (dir_ / "zeros").string() + " --max-side 512 --light-map");
  ASSERT_EQ(zeros.code, 0) << zeros.output;
  EXPECT_NE(zeros.output.find("cond* padding zeros"), std::string::npos) << zeros.output;
  const auto zeros_light = io::read_image_u8((dir_ / "zeros/c5b8b4070688114c602b27933c6699b6_light.png").string());
  using torch::indexing::Slice;
  const auto difference_in = [&](const Slice& rows, const Slice& columns) {
    return (light.index({rows, columns}).to(torch::kFloat64) - zeros_light.index({rows, columns}).to(torch::kFloat64));
  };
  EXPECT_GT(difference_in(Slice(0, 1), Slice()).mean().item<double>(), 50);  // the top row, in 8-bit levels
  EXPECT_LE(difference_in(Slice(100, 400), Slice(100, 240)).abs().max().item<double>(), 2);
}

TEST_F(Enhance, FolderAcrossTwoRanksWithSameFormatAndAnUnreadableFile) {
  const fs::path input = dir_ / "in";
  fs::create_directories(input);
  torch::manual_seed(0);
  for (const char* name : {"a.png", "b.jpg", "c.png", "d.JPG"}) {
    io::write_image((input / name).string(), torch::rand({3, 24, 40}));
  }
  std::ofstream(input / "e.png") << "not a png";
  const std::string mpirun = std::string(RAVE_MPIEXEC) + " " + RAVE_MPIRUN_FLAGS + " -np 2 ";
  const auto [code, output] = test::run_command(mpirun + RAVE_BINARY + " enhance --threads 1 --format same " +
                                                "--checkpoint " + checkpoint_ + " --input " + input.string() +
                                                " --output " + (dir_ / "out").string());
  EXPECT_NE(code, 0) << output;  // e.png cannot be read
  EXPECT_NE(output.find("e.png"), std::string::npos) << output;
  for (const char* name : {"a.png", "b.jpg", "c.png", "d.JPG"}) {
    ASSERT_TRUE(fs::exists(dir_ / "out" / name)) << name << "\n" << output;
    EXPECT_EQ(io::read_image_u8((dir_ / "out" / name).string()).sizes(), torch::IntArrayRef({24, 40, 3}));
  }
}

TEST_F(Enhance, InspectSummarisesAndDetectsCorruption) {
  const auto summary = run("inspect " + checkpoint_);
  ASSERT_EQ(summary.code, 0) << summary.output;
  for (const char* line : {"method           imported", "parameters       278790", "training_padding zeros",
                           "enhance_padding  reflect", "checksums        ok (30 datasets read, 30 with a checksum)"}) {
    EXPECT_NE(summary.output.find(line), std::string::npos) << line << "\n" << summary.output;
  }
  // Imported without --padding: the published weights were trained with zeros, and that is what is recorded.
  const std::string plain = (dir_ / "plain.h5").string();
  const std::string published = (test::fixtures_dir() / "enhancer/rave_paired.pth").string();
  ASSERT_EQ(run("import --from " + published + " --to " + plain).code, 0);
  EXPECT_NE(run("inspect --json " + plain).output.find("\"training_padding\": \"zeros\""), std::string::npos);
  EXPECT_NE(run("inspect --json " + checkpoint_).output.find("\"parameters\": 278790"), std::string::npos);

  // Zero 64 bytes in the middle of the file, which is weight data (HDF5 keeps its metadata at the ends).
  std::fstream file(checkpoint_, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(std::streamoff(fs::file_size(checkpoint_) / 2));
  file.write(std::string(64, '\0').data(), 64);
  file.close();
  const auto damaged = run("inspect " + checkpoint_);
  EXPECT_EQ(damaged.code, 1) << damaged.output;
  // The whole-file SHA-256 of rave's header catches the damage before HDF5 parses the file.
  EXPECT_NE(damaged.output.find("damaged: the SHA-256"), std::string::npos) << damaged.output;
  const auto refused = run("enhance --checkpoint " + checkpoint_ + " --input " + dir_.path().string() + " --output " +
                           (dir_ / "never").string());
  EXPECT_EQ(refused.code, 1) << refused.output;
}

}  // namespace
}  // namespace rave
