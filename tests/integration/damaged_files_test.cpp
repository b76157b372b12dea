// rave inspect on damaged checkpoints (issue 19): each kind of damage exits 1 with a message naming the file;
// an intact checkpoint lists what was verified, and one without rave's header (an older rave's) says that only
// its datasets' checksums could be.
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
