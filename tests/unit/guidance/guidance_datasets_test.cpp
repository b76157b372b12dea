// The guidance datasets (ALGORITHMS §3.4, §3.5) and the intermediate results (§3.6) on small generated folders.
#include "guidance/guidance_datasets.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "guidance/intermediate_results.h"
#include "guidance/photometric_encoder.h"
#include "io/image.h"
#include "io/resize.h"
#include "tests/support/single_rank.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

namespace fs = std::filesystem;

using test::SingleRank;

// Uniform grey images stay uniform under every flip, transpose, zoom and rotation (symmetric borders), so
// their value tells which file an item came from.
void write_grey(const fs::path& path, double value, int64_t size = 40) {
  io::write_image(path.string(), torch::full({3, size, size}, value));
}

class GuidanceDatasets : public testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "backlit");
    fs::create_directories(dir_ / "welllit");
    write_grey(dir_ / "backlit/a.png", 51 / 255.0);
    write_grey(dir_ / "backlit/b.jpg", 102 / 255.0);
    for (int i = 0; i < 3; ++i) write_grey(dir_ / ("welllit/w" + std::to_string(i) + ".png"), kWelllitGreys[i] / 255.0);
    backlit_folder_.emplace(dir_ / "backlit", io::kTrainingExifOrientation);
    welllit_folder_.emplace(dir_ / "welllit", io::kTrainingExifOrientation);
    backlit_.emplace(*backlit_folder_);
    welllit_.emplace(*welllit_folder_);
  }
  static std::vector<ItemDraw> all(int64_t n) {
    std::vector<ItemDraw> draws;
    for (int64_t i = 0; i < n; ++i) draws.push_back({i, 0});
    return draws;
  }
  // The mean 8-bit level of an image (the Lanczos resize may move a uniform image by a level).
  static double level(const torch::Tensor& image) { return image.mean().item<double>() * 255; }
  static constexpr double kWelllitGreys[3] = {153, 204, 255};

  test::ScratchDir dir_;
  std::optional<io::ImageFolder> backlit_folder_, welllit_folder_;
  std::optional<ResizedImages> backlit_, welllit_;
};

TEST_F(GuidanceDatasets, InitialisationSetCyclesTheShorterListAndLabelsBySource) {
  InitialisationSet set(*backlit_, *welllit_, 7);
  ASSERT_EQ(set.size(), 6);  // m = 3: backlit a, b, a (cycled) and the three well-lit images
  const InitialisationBatch batch = set.load(all(6));
  ASSERT_EQ(batch.images.sizes(), torch::IntArrayRef({6, 3, kGuidanceImageSize, kGuidanceImageSize}));
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64)));
  const std::vector<double> expected{51, 102, 51, 153, 204, 255};  // a, b, a, then the well-lit images
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(level(batch.images[i]), expected[size_t(i)], 1.0) << i;
  // The same draws give the same batch.
  EXPECT_TRUE(torch::equal(set.load(all(6)).images, batch.images));
}

TEST_F(GuidanceDatasets, AugmentationDependsOnItemEpochAndSeed) {
  io::write_image((dir_ / "backlit/a.png").string(), torch::linspace(0, 1, 40).expand({3, 40, 40}).contiguous());
  io::ImageFolder folder(dir_ / "backlit", io::kTrainingExifOrientation);
  ResizedImages backlit(folder);
  InitialisationSet set(backlit, *welllit_, 7), other_seed(backlit, *welllit_, 8);
  std::vector<torch::Tensor> variants;
  for (const int64_t epoch : {0, 1, 2, 3, 4, 5}) variants.push_back(set.load({{0, epoch}}).images);
  int distinct = 0;
  for (size_t i = 1; i < variants.size(); ++i) distinct += torch::equal(variants[i], variants[0]) ? 0 : 1;
  EXPECT_GT(distinct, 0);
  EXPECT_TRUE(torch::equal(set.load({{0, 3}}).images, variants[3]));
  EXPECT_EQ(other_seed.load({{0, 0}}).images.sizes(), variants[0].sizes());
}

TEST_F(GuidanceDatasets, MarginSetPairsCycledListsRandomlyAndOnce) {
  MarginSet set(*backlit_, *welllit_, {}, 11, 12);
  ASSERT_EQ(set.size(), 3);
  EXPECT_EQ(set.tuple_size(), 2);
  std::vector<int64_t> inputs, references;
  for (int64_t i = 0; i < 3; ++i) {
    inputs.push_back(set.pair(i).first);
    references.push_back(set.pair(i).second);
  }
  std::sort(inputs.begin(), inputs.end());
  std::sort(references.begin(), references.end());
  EXPECT_EQ(inputs, (std::vector<int64_t>{0, 0, 1}));  // a, b, a cycled
  EXPECT_EQ(references, (std::vector<int64_t>{0, 1, 2}));
  const std::vector<torch::Tensor> members = set.load(all(3));
  ASSERT_EQ(members.size(), 2u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(level(members[0][i]), set.pair(i).first == 0 ? 51 : 102, 1.0);
    EXPECT_NEAR(level(members[1][i]), kWelllitGreys[set.pair(i).second], 1.0);
  }
}

TEST_F(GuidanceDatasets, MarginTuplesShareTheirDrawsAndSkipMissingResults) {
  // One result folder holding, for input a only, a copy of a's resized image: after the shared augmentation
  // the result member must equal the input member; items whose input is b have no result and are left out.
  io::write_image((dir_ / "backlit/a.png").string(), torch::linspace(0, 1, 40).expand({3, 40, 40}).contiguous());
  io::ImageFolder folder(dir_ / "backlit", io::kTrainingExifOrientation);
  ResizedImages backlit(folder);
  const fs::path results = dir_ / "results/round1";
  fs::create_directories(results);
  io::write_image(intermediate_result_path(results, folder.files()[0]).string(), io::to_float_chw(*backlit.get(0)));
  MarginSet set(backlit, *welllit_, {results}, 11, 12);
  EXPECT_EQ(set.tuple_size(), 3);
  const std::vector<torch::Tensor> members = set.load(all(3));
  ASSERT_EQ(members.size(), 3u);
  int64_t with_a = 0;
  for (int64_t i = 0; i < 3; ++i) with_a += set.pair(i).first == 0 ? 1 : 0;
  EXPECT_EQ(members[0].size(0), with_a);
  EXPECT_TRUE(torch::equal(members[0], members[1]));
  EXPECT_EQ(members[2].size(0), with_a);
}

TEST_F(GuidanceDatasets, IntermediateResultsAreTheEnhancedResizedInputs) {
  torch::manual_seed(0);
  models::Enhancer enhancer;
  SingleRank world;
  ResizedImages backlit(*backlit_folder_, 32);  // 256 in training; the enhancer is slow at full size on a CPU
  const fs::path results = dir_ / "results/round2";
  write_intermediate_results(enhancer, backlit, results, world, torch::kCPU);
  for (size_t i = 0; i < 2; ++i) {
    const fs::path file = intermediate_result_path(results, backlit_folder_->files()[i]);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(file.extension(), ".png");  // also for the .jpg input
    torch::NoGradGuard no_grad;
    const torch::Tensor x = io::to_float_chw(*backlit.get(i)).unsqueeze(0);
    const torch::Tensor expected = models::apply_light_map(x, enhancer->forward(x))[0];
    const torch::Tensor written = io::read_image(file.string());
    ASSERT_EQ(written.sizes(), torch::IntArrayRef({3, 32, 32}));
    EXPECT_LE((written - expected).abs().max().item<double>(), 0.5 / 255 + 1e-6);
  }
}

TEST(UnitFeatures, AreNormalisedEmbeddingsWithoutGradient) {
  PhotometricEncoder encoder;
  const torch::Tensor images = torch::rand({3, 3, 64, 64}, torch::requires_grad());
  const torch::Tensor features = unit_features(encoder, images, torch::kCPU);
  EXPECT_EQ(features.sizes(), torch::IntArrayRef({3, encoder.dim()}));
  EXPECT_TRUE(torch::allclose(features.norm(2, 1), torch::ones({3}), 0, 1e-5));
  EXPECT_FALSE(features.requires_grad());
}

TEST(UnitFeatures, Bf16RunsTheEncoderUnderAutocastAndReturnsFloat32) {
  RAVE_REQUIRE_FIXTURES();
  auto encoder = make_guidance_encoder((test::fixtures_dir() / "clip/tiny_vit_state.h5").string());
  torch::manual_seed(0);
  const torch::Tensor images = torch::rand({4, 3, 64, 64});
  const torch::Tensor fp32 = unit_features(*encoder, images, torch::kCPU);
  const torch::Tensor bf16 = unit_features(*encoder, images, torch::kCPU, models::Precision::kBFloat16);
  EXPECT_EQ(bf16.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(bf16.norm(2, 1), torch::ones({4}), 0, 1e-5));
  EXPECT_FALSE(torch::equal(bf16, fp32));  // bfloat16 matmuls ran
  EXPECT_GT((bf16 * fp32).sum(1).min().item<double>(), 0.99);  // the same directions to bf16's precision
}

}  // namespace
}  // namespace rave::guidance
