// rave inspect on damaged checkpoints (issue 19): each kind of damage exits 1 with a message naming the file;
// an intact checkpoint lists what was verified, and one without rave's header (an older rave's) says that only
// its datasets' checksums could be, and is loaded only once --reseal gave it the header.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <string>

#include "io/checkpoint.h"
#include "tests/support/h5_damage.h"
#include "tests/support/test_support.h"

namespace rave {
namespace {

test::CommandResult inspect(const std::string& path) {
  return test::run_command(std::string(RAVE_BINARY) + " inspect " + path);
}

io::Checkpoint sample() {
  io::Checkpoint c;
  c.method = "rave";
  c.step = 8;
  c.stage = "guided";
  c.seed = 0x0123456789abcdef;
  c.tensors["enhancer/cond1.bias"] = torch::arange(32, torch::kFloat32);
  c.tensors["enhancer/big"] = torch::full({1 << 20}, 1234.5678f);
  c.tensors["optimizer/enhancer/exp_avg/cond1.bias"] = torch::linspace(-1, 1, 32);
  c.tensors["guidance/residual"] = torch::randn({512});
  c.tensors["guidance/tau"] = torch::tensor(0.25, torch::kFloat64);
  return c;
}

TEST(DamagedFiles, InspectListsWhatItVerified) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  sample().write(path);
  const auto result = inspect(path);
  EXPECT_EQ(result.code, 0) << result.output;
  for (const char* line : {"whole-file hash  ok (SHA-256 and length", "manifest         complete (5 datasets",
                           "checksums        ok (5 datasets read, 5 with a checksum)",
                           "(covered by the whole-file hash)"}) {
    EXPECT_NE(result.output.find(line), std::string::npos) << line << "\n" << result.output;
  }
  test::strip_header(path);
  const auto older = inspect(path);
  EXPECT_EQ(older.code, 0) << older.output;
  EXPECT_NE(older.output.find("whole-file hash  none (written by another tool or an older rave"), std::string::npos)
      << older.output;
}

// A checkpoint without rave's header: loading it (rave enhance here) refuses it with the way out, --reseal, whose
// copy carries the header and the same tensors.
TEST(DamagedFiles, ResealGivesAnOlderCheckpointTheHeader) {
  test::ScratchDir dir;
  const std::string path = (dir / "old.h5").string(), resealed = (dir / "new.h5").string();
  const io::Checkpoint written = sample();
  written.write(path);
  test::strip_header(path);
  const auto refused = test::run_command(std::string(RAVE_BINARY) + " enhance --checkpoint " + path + " --input " +
                                         dir.path().string() + " --output " + (dir / "out").string());
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find(path + ": no rave header with the file's SHA-256"), std::string::npos)
      << refused.output;
  const auto reseal = test::run_command(std::string(RAVE_BINARY) + " inspect " + path + " --reseal " + resealed);
  EXPECT_EQ(reseal.code, 0) << reseal.output;
  EXPECT_NE(reseal.output.find("resealed " + path + " (5 datasets verified) as " + resealed), std::string::npos)
      << reseal.output;
  EXPECT_NE(inspect(resealed).output.find("whole-file hash  ok"), std::string::npos);
  const io::Checkpoint read = io::Checkpoint::read(resealed);
  EXPECT_EQ(read.seed, written.seed);
  for (const auto& [name, tensor] : written.tensors) EXPECT_TRUE(torch::equal(read.tensors.at(name), tensor)) << name;
  // A damaged file is not resealed: the datasets' checksums are checked first.
  test::flip_value(path, 1234.5678f, 2);
  const auto damaged = test::run_command(std::string(RAVE_BINARY) + " inspect " + path + " --reseal " + resealed);
  EXPECT_EQ(damaged.code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("Fletcher32"), std::string::npos) << damaged.output;
}

TEST(DamagedFiles, InspectExitsNonZeroOnEachKindOfDamage) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  const io::Checkpoint written = sample();
  for (const auto& damage : test::checkpoint_damages(written.seed, 1234.5678f)) {
    written.write(path);
    damage.apply(path);
    const auto result = inspect(path);
    EXPECT_EQ(result.code, 1) << damage.what << "\n" << result.output;
    EXPECT_TRUE(result.output.find(path + ": damaged: the SHA-256") != std::string::npos ||
                result.output.find(path + ": truncated: ") != std::string::npos)
        << damage.what << "\n" << result.output;
  }
}

// A diverged run's weights, which rave enhance would turn into black images, are a failure too.
TEST(DamagedFiles, InspectFailsOnNonFiniteWeights) {
  test::ScratchDir dir;
  const std::string path = (dir / "c.h5").string();
  io::Checkpoint written = sample();
  written.tensors["enhancer/cond1.bias"][3] = std::numeric_limits<float>::quiet_NaN();
  written.write(path);
  const auto result = inspect(path);
  EXPECT_EQ(result.code, 1) << result.output;
  EXPECT_NE(result.output.find("non_finite_values cond1.bias 1"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace rave
