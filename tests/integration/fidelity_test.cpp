// The rave binary on what issue 18 changed, with synthetic scenes and the weight-free encoders (no fixtures):
// enhancement pads with reflect whatever padding a checkpoint was trained with; photos' EXIF orientation is
// ignored by training and the residual vector (as the reference reads them) and applied by rave enhance; a
// guided round stops extending after --max-extensions, warns at each extension and says so in its progress line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "guidance/residual_file.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "models/enhancer.h"
#include "tests/support/exif.h"
#include "tests/support/test_support.h"

namespace rave {
namespace {

namespace fs = std::filesystem;

// `rave SUBCOMMAND ...`; the distributed subcommands get one thread (the work is tiny, the machine may be busy).
test::CommandResult run_rave(const std::string& subcommand, const std::string& arguments, bool distributed = true) {
  return test::run_command(std::string(RAVE_BINARY) + " " + subcommand + " " + arguments +
                           (distributed ? " --threads 1" : ""));
}

void expect_output(const test::CommandResult& result, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) EXPECT_NE(result.output.find(part), std::string::npos) << part;
}

class Fidelity : public testing::Test {
 protected:
  // Synthetic scenes once for the whole suite.
  static void SetUpTestSuite() {
    data_ = new test::ScratchDir();
    const auto synth = run_rave("synth", "--count 4 --size 32 --out " + data_->path().string(), false);
    ASSERT_EQ(synth.code, 0) << synth.output;
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }
  static std::string welllit() { return (data_->path() / "train/welllit").string(); }

  static test::ScratchDir* data_;
  test::ScratchDir dir_;
};
test::ScratchDir* Fidelity::data_ = nullptr;

// Round 1 of 2 steps, whose extension metric always exceeds the threshold -1: two extensions of 60 steps, then
// the cap ends it at step 2 + 2 + 2 * 60. The reference would extend for ever.
TEST_F(Fidelity, ARoundStopsExtendingAtTheCapAndItsProgressLineSaysItIsExtending) {
  const auto run =
      run_rave("train", "--clip photometric --clip-identity pixels --backlit " +
                            (data_->path() / "train/backlit").string() + " --welllit " + welllit() + " --run-dir " +
                            (dir_ / "run").string() + " --image-size 16 --batch-size 1 --loader-threads 1 " +
                            "--reconstruction-steps 2 --round-steps 2 --rounds 1 --extension-threshold=-1 " +
                            "--max-extensions 2 --checkpoint-every 1000 --sample-every 1000");
  ASSERT_EQ(run.code, 0) << run.output;
  expect_output(run, {"steps 0 -> 4 (end of round 1)", "round 1: guidance + 0.9 identity of the last step, ",
                      "exceeds -1: extended by 60 steps (extension 1 of at most 2)",
                      "exceeds -1: extended by 60 steps (extension 2 of at most 2)",
                      "still exceeds -1 after 2 extensions, the maximum (--max-extensions): the phase ends here",
                      "step 50 round 1 (guided, 2 + 46 extension steps): loss ",
                      "ETA unknown while round 1 is extended", "training finished at step 124 (end of round 1)"});
  // No planned total while extending (the old line read "step 50/4 ... ETA 0.0s"); once the cap ends the round,
  // the end is known again.
  EXPECT_EQ(run.output.find("step 50/"), std::string::npos) << run.output;
  expect_output(run, {"step 124/124 round 1 (guided): loss "});
}

// A photo stored sideways (24 rows x 40 columns, brighter at the top) with the EXIF tag "rotate 90° clockwise",
// once with the tag and once without.
class ExifPhotos : public Fidelity {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "tagged");
    fs::create_directories(dir_ / "plain");
    const auto rows = torch::linspace(1.0, 0.1, 24).view({1, 24, 1});
    const auto columns = torch::linspace(0.6, 1.0, 40).view({1, 1, 40});
    const auto image = (rows * columns * torch::tensor({1.0, 0.8, 0.6}).view({3, 1, 1})).to(torch::kFloat);
    for (const char* name : {"a.jpg", "b.jpg"}) {
      const fs::path plain = dir_ / "plain" / name;
      io::write_image(plain.string(), name[0] == 'a' ? image : image.flip({2}));
      std::ifstream in(plain, std::ios::binary);
      const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      const std::vector<std::uint8_t> tagged = test::with_exif_orientation(bytes, 6);
      std::ofstream(dir_ / "tagged" / name, std::ios::binary)
          .write(reinterpret_cast<const char*>(tagged.data()), std::streamsize(tagged.size()));
    }
  }

  torch::Tensor residual(const std::string& backlit, const std::string& flags) {
    const std::string out = (dir_ / (backlit + std::to_string(++files_) + ".h5")).string();
    const auto run = run_rave("residual", "--clip photometric --backlit " + (dir_ / backlit).string() + " --welllit " +
                                              welllit() + " --out " + out + " " + flags);
    EXPECT_EQ(run.code, 0) << run.output;
    return guidance::read_residual_file(out).vector.residual;
  }

  int files_ = 0;
};

// Training and the residual vector read the pixels as stored, as the reference's PIL does: a tagged photo gives
// the residual of its untagged copy unless --exif apply.
TEST_F(ExifPhotos, TrainingAndTheResidualIgnoreTheOrientationByDefault) {
  const torch::Tensor stored = residual("plain", "");
  EXPECT_TRUE(torch::equal(residual("tagged", ""), stored));
  EXPECT_TRUE(torch::equal(residual("tagged", "--exif ignore"), stored));
  EXPECT_FALSE(torch::allclose(residual("tagged", "--exif apply"), stored));

  const auto run = run_rave("train", "--clip photometric --clip-identity pixels --max-steps 0 --backlit " +
                                         (dir_ / "tagged").string() + " --welllit " + welllit() + " --run-dir " +
                                         (dir_ / "run").string());
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_TRUE(torch::equal(guidance::read_residual_file((dir_ / "run/residual.h5").string()).vector.residual, stored));
}

// rave enhance shows a user's phone photo upright unless --exif ignore.
TEST_F(ExifPhotos, EnhanceAppliesTheOrientationByDefault) {
  io::Checkpoint checkpoint;
  checkpoint.method = "rave";
  models::store_enhancer(checkpoint, models::Enhancer());
  checkpoint.write((dir_ / "c.h5").string());
  const std::string enhance =
      "--checkpoint " + (dir_ / "c.h5").string() + " --input " + (dir_ / "tagged/a.jpg").string() + " --output ";
  ASSERT_EQ(run_rave("enhance", enhance + (dir_ / "upright").string()).code, 0);
  EXPECT_EQ(io::read_image_u8((dir_ / "upright/a.png").string()).sizes(), torch::IntArrayRef({40, 24, 3}));
  ASSERT_EQ(run_rave("enhance", enhance + (dir_ / "stored").string() + " --exif ignore").code, 0);
  EXPECT_EQ(io::read_image_u8((dir_ / "stored/a.png").string()).sizes(), torch::IntArrayRef({24, 40, 3}));
}

// A checkpoint trained with zeros padding (what rave train records) is enhanced with reflect padding, the
// papers' evaluation protocol, unless --padding zeros; rave inspect says both.
TEST_F(Fidelity, EnhanceUsesReflectPaddingWhateverTheCheckpointWasTrainedWith) {
  torch::manual_seed(3);
  models::Enhancer trained(models::EnhancerOptions().cond_padding(torch::kZeros));
  io::Checkpoint checkpoint;
  checkpoint.method = "rave";
  models::store_enhancer(checkpoint, trained);
  const std::string path = (dir_ / "trained.h5").string();
  checkpoint.write(path);
  const fs::path photo = data_->path() / "test/backlit/scene_0003.png";
  const torch::Tensor x = io::read_image(photo.string()).unsqueeze(0);
  for (const std::string padding : {"reflect", "zeros"}) {
    const auto run =
        run_rave("enhance", "--checkpoint " + path + " --input " + photo.string() + " --output " +
                                (dir_ / padding).string() + (padding == "zeros" ? " --padding zeros" : ""));
    ASSERT_EQ(run.code, 0) << run.output;
    expect_output(run, {"cond* padding " + padding + "; trained with zeros"});
    models::Enhancer expected = models::load_enhancer(checkpoint, padding);
    torch::InferenceMode inference;
    const torch::Tensor ours = io::read_image_u8((dir_ / padding / "scene_0003.png").string()).to(torch::kInt32);
    const torch::Tensor theirs = io::to_u8_hwc(expected->enhance(x)[0]).to(torch::kInt32);
    EXPECT_LE((ours - theirs).abs().max().item<int>(), 1) << padding;
  }
  expect_output(run_rave("inspect", path, false), {"training_padding zeros", "enhance_padding  reflect"});
}

}  // namespace
}  // namespace rave
