// Tests of io/synth_scenes (`rave synth`): scenes are a pure function of (seed, index, size), the written set has
// the promised layout and identical bytes for the same seed, and a backlit picture differs from its ground truth
// only in illumination: same edges, darker foreground, and a well-lit/backlit ratio that is smooth where the
// pictures are textured.
#include "io/synth_scenes.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "core/error.h"
#include "tests/support/test_support.h"

namespace rave::io {
namespace {

namespace F = torch::nn::functional;

std::string bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

torch::Tensor luminance(const torch::Tensor& chw) { return 0.299 * chw[0] + 0.587 * chw[1] + 0.114 * chw[2]; }

// Central differences of [H,W] -> ([H-2,W-2], [H-2,W-2]).
std::pair<torch::Tensor, torch::Tensor> central_gradients(const torch::Tensor& y) {
  const int64_t h = y.size(0), w = y.size(1);
  return {y.slice(0, 1, h - 1).slice(1, 2, w) - y.slice(0, 1, h - 1).slice(1, 0, w - 2),
          y.slice(0, 2, h).slice(1, 1, w - 1) - y.slice(0, 0, h - 2).slice(1, 1, w - 1)};
}

// Mean |v - 3x3 mean of v| / mean |v|: how much a map varies from pixel to pixel.
double roughness(const torch::Tensor& hw) {
  const torch::Tensor v = hw.unsqueeze(0).unsqueeze(0);
  const torch::Tensor local = F::avg_pool2d(v, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false));
  return ((v - local).abs().mean() / v.abs().mean()).item<double>();
}

TEST(SynthScenes, SceneIsAPureFunctionOfSeedIndexAndSize) {
  const ScenePair a = render_scene(7, 3, 48), b = render_scene(7, 3, 48);
  EXPECT_TRUE(torch::equal(a.backlit, b.backlit));
  EXPECT_TRUE(torch::equal(a.welllit, b.welllit));
  EXPECT_EQ(a.backlit.sizes(), torch::IntArrayRef({3, 48, 48}));
  EXPECT_EQ(a.backlit.dtype(), torch::kFloat32);
  EXPECT_GE(a.welllit.min().item<float>(), 0.f);
  EXPECT_LE(a.welllit.max().item<float>(), 1.f);
  EXPECT_FALSE(torch::equal(a.welllit, render_scene(8, 3, 48).welllit));  // another seed
  EXPECT_FALSE(torch::equal(a.welllit, render_scene(7, 4, 48).welllit));  // another scene of the set
}

TEST(SynthScenes, SplitCountsKeepBothSplitsNonEmpty) {
  EXPECT_EQ(split_counts(10, 0.2).train, 8);
  EXPECT_EQ(split_counts(10, 0.2).test, 2);
  EXPECT_EQ(split_counts(2, 0.01).test, 1);
  EXPECT_EQ(split_counts(2, 0.9).train, 1);
  EXPECT_EQ(split_counts(1, 0.2).test, 0);
  EXPECT_EQ(split_counts(5, 0.0).test, 0);
  EXPECT_THROW(split_counts(0, 0.2), UsageError);
  EXPECT_THROW(split_counts(5, 1.0), UsageError);
}

TEST(SynthScenes, WritesTheLayoutAndTheSameBytesForTheSameSeed) {
  test::ScratchDir dir;
  SynthOptions options;
  options.count = 5;
  options.size = 32;
  options.seed = 11;
  options.out = dir / "a";
  int scenes = 0;
  const SynthCounts counts = write_scene_set(options, [&] { ++scenes; });
  EXPECT_EQ(scenes, 5);
  EXPECT_EQ(counts.train, 4);
  EXPECT_EQ(counts.test, 1);
  for (const char* version : {"backlit", "welllit"}) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(std::filesystem::exists(dir / ("a/train/" + std::string(version) + "/scene_000" + std::to_string(i) + ".png")));
    }
    EXPECT_TRUE(std::filesystem::exists(dir / ("a/test/" + std::string(version) + "/scene_0004.png")));
  }
  options.out = dir / "b";
  write_scene_set(options);
  options.out = dir / "c";
  options.seed = 12;
  write_scene_set(options);
  const std::string file = "train/welllit/scene_0002.png";
  EXPECT_EQ(bytes(dir / "a" / file), bytes(dir / "b" / file));
  EXPECT_NE(bytes(dir / "a" / file), bytes(dir / "c" / file));
  EXPECT_EQ(bytes(dir / "a/test/backlit/scene_0004.png"), bytes(dir / "b/test/backlit/scene_0004.png"));
}

TEST(SynthScenes, RejectsBadOptions) {
  SynthOptions options;
  options.count = 2;
  EXPECT_THROW(write_scene_set(options), UsageError);  // no --out
  test::ScratchDir dir;
  options.out = dir.path();
  options.size = 4;
  EXPECT_THROW(write_scene_set(options), UsageError);
}

TEST(SynthScenes, PairsDifferOnlyInIllumination) {
  constexpr int64_t kSize = 96;
  for (int64_t index = 0; index < 6; ++index) {
    const ScenePair pair = render_scene(5, index, kSize);
    const torch::Tensor yb = luminance(pair.backlit).to(torch::kFloat64);
    const torch::Tensor yw = luminance(pair.welllit).to(torch::kFloat64);
    // The bottom quarter lies below every horizon: it is all foreground.
    const torch::Tensor bottom_b = yb.slice(0, 3 * kSize / 4), bottom_w = yw.slice(0, 3 * kSize / 4);
    const double gain = (bottom_w.mean() / bottom_b.mean()).item<double>();
    EXPECT_GT(gain, 1.8) << "scene " << index << ": the foreground of the backlit picture is not darker";

    // Edges: where the ground truth has a clear edge, the backlit picture has one in the same direction.
    const auto [gxb, gyb] = central_gradients(yb);
    const auto [gxw, gyw] = central_gradients(yw);
    const torch::Tensor norm_b = (gxb.square() + gyb.square()).sqrt(), norm_w = (gxw.square() + gyw.square()).sqrt();
    const torch::Tensor edges = (norm_w > 0.05) & (norm_b > 0.01);
    ASSERT_GT(edges.sum().item<int64_t>(), 50) << "scene " << index;
    const torch::Tensor cosine = (gxb * gxw + gyb * gyw) / (norm_b * norm_w + 1e-12);
    const double agreement = cosine.masked_select(edges).mean().item<double>();
    EXPECT_GT(agreement, 0.9) << "scene " << index << ": edge directions disagree";

    // The ratio well-lit / backlit is a smooth light map: far less rough than the texture it multiplies.
    const double texture = roughness(bottom_w), ratio = roughness(bottom_w / bottom_b);
    EXPECT_LT(ratio, 0.3 * texture) << "scene " << index << ": ratio roughness " << ratio << " vs texture " << texture;
  }
}

}  // namespace
}  // namespace rave::io
