// Tests of the weight-free encoders of the quickstart: the photometric guidance encoder is differentiable
// (finite differences in float64), its file and loss paths agree, its RAVE residual vector separates the
// backlit and well-lit pictures of `rave synth`, and the RAVE loss through it brightens a backlit picture toward
// its ground truth; the pixel identity encoder gives five taps, zero distance for identical images, and gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "guidance/losses.h"
#include "guidance/photometric_encoder.h"
#include "guidance/pixel_identity_encoder.h"
#include "guidance/residual.h"
#include "io/image.h"
#include "io/synth_scenes.h"

namespace rave::guidance {
namespace {

// Checks d f / d x of a scalar function of a float64 tensor against central differences at `probes` entries.
void expect_gradient_matches_finite_differences(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                                                const torch::Tensor& x0, int probes) {
  const torch::Tensor x = x0.clone().requires_grad_(true);
  f(x).backward();
  const torch::Tensor analytic = x.grad().flatten();
  EXPECT_GT(analytic.abs().max().item<double>(), 0);
  const double h = 1e-6;
  const int64_t stride = std::max<int64_t>(1, x0.numel() / probes);
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < x0.numel(); i += stride) {
    torch::Tensor plus = x0.clone(), minus = x0.clone();
    plus.view({-1})[i] += h;
    minus.view({-1})[i] -= h;
    const double numeric = (f(plus) - f(minus)).item<double>() / (2 * h);
    const double a = analytic[i].item<double>();
    EXPECT_NEAR(a, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << "entry " << i;
  }
}

torch::Tensor random_images(int64_t batch, int64_t size, uint64_t seed) {
  torch::manual_seed(seed);
  return 0.05 + 0.9 * torch::rand({batch, 3, size, size}, torch::kFloat64);
}

double psnr(const torch::Tensor& a, const torch::Tensor& b) {
  return -10 * std::log10((a - b).square().mean().item<double>());
}

TEST(PhotometricEncoder, FactoryShapesAndName) {
  auto encoder = make_guidance_encoder("photometric");
  EXPECT_EQ(encoder->name(), "photometric");
  const torch::Tensor e = encoder->embed(torch::rand({2, 3, 40, 56}));
  EXPECT_EQ(e.sizes(), torch::IntArrayRef({2, encoder->dim()}));
  EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
  // A flat black picture is finite too (spreads and colourfulness have a variance floor).
  EXPECT_TRUE(torch::isfinite(encoder->embed(torch::zeros({1, 3, 8, 8}))).all().item<bool>());
}

TEST(PhotometricEncoder, IsDifferentiable) {
  PhotometricEncoder encoder;
  torch::manual_seed(3);
  const torch::Tensor weights = torch::randn({2, encoder.dim()}, torch::kFloat64);
  expect_gradient_matches_finite_differences(
      [&](const torch::Tensor& x) { return (encoder.embed(x) * weights).sum(); }, random_images(2, 10, 1), 60);
}

TEST(PhotometricEncoder, FilePathAgreesWithLossPath) {
  PhotometricEncoder encoder;
  torch::manual_seed(5);
  const torch::Tensor u8 = torch::randint(0, 256, {70, 90, 3}, torch::kUInt8);
  const torch::Tensor from_file = encoder.encode(encoder.preprocess_file_image(u8).unsqueeze(0));
  const torch::Tensor from_loss = encoder.embed(io::to_float_chw(u8).unsqueeze(0));
  EXPECT_LE((from_file - from_loss).abs().max().item<double>(), 1e-5);
}

class SynthSet : public testing::Test {
 protected:
  static constexpr int kPairs = 16;
  void SetUp() override {
    std::vector<torch::Tensor> backlit, welllit;
    for (int i = 0; i < kPairs; ++i) {
      const io::ScenePair pair = io::render_scene(21, i, 64);
      backlit.push_back(pair.backlit);
      welllit.push_back(pair.welllit);
    }
    backlit_ = torch::stack(backlit);
    welllit_ = torch::stack(welllit);
    torch::NoGradGuard no_grad;
    const auto unit = [&](const torch::Tensor& x) {
      const torch::Tensor e = encoder_.embed(x);
      return e / e.norm(2, 1, true);
    };
    unit_backlit_ = unit(backlit_);
    unit_welllit_ = unit(welllit_);
    residual_ = residual_from_sums(unit_welllit_.sum(0), kPairs, unit_backlit_.sum(0), kPairs);
  }

  PhotometricEncoder encoder_;
  torch::Tensor backlit_, welllit_, unit_backlit_, unit_welllit_;
  ResidualVector residual_;
};

TEST_F(SynthSet, ResidualVectorSeparatesBacklitFromWellLit) {
  const torch::Tensor on_welllit = torch::matmul(unit_welllit_, residual_.residual);
  const torch::Tensor on_backlit = torch::matmul(unit_backlit_, residual_.residual);
  const double lowest_welllit = on_welllit.min().item<double>(), highest_backlit = on_backlit.max().item<double>();
  RecordProperty("tau", std::to_string(residual_.tau));
  RecordProperty("lowest_welllit", std::to_string(lowest_welllit));
  RecordProperty("highest_backlit", std::to_string(highest_backlit));
  std::cout << "tau " << residual_.tau << "; projections on r: well-lit [" << lowest_welllit << ", "
            << on_welllit.max().item<double>() << "], backlit [" << on_backlit.min().item<double>() << ", "
            << highest_backlit << "]\n";
  EXPECT_GT(lowest_welllit, highest_backlit);
}

TEST_F(SynthSet, RaveLossBrightensBacklitPicturesTowardTheirGroundTruth) {
  // A stand-in for the enhancer that can only do what a light map does: a smooth gain per picture, 4x4 gains
  // interpolated bilinearly, trained on RAVE's objective 6 L_rave + 0.9 L_id with the pixel identity taps.
  PixelIdentityEncoder identity;
  const torch::Tensor x = backlit_.slice(0, 0, 4), truth = welllit_.slice(0, 0, 4);
  std::vector<torch::Tensor> input_taps;
  {
    torch::NoGradGuard no_grad;
    input_taps = identity.taps(x);
  }
  torch::Tensor log_gain = torch::zeros({4, 1, 4, 4}, torch::requires_grad());
  torch::optim::Adam adam({log_gain}, torch::optim::AdamOptions(0.05));
  namespace F = torch::nn::functional;
  const auto enhance = [&] {
    const torch::Tensor gain = F::interpolate(log_gain.exp(), F::InterpolateFuncOptions()
                                                                  .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                                                  .mode(torch::kBilinear)
                                                                  .align_corners(false));
    return torch::clamp(x * gain, 0, 1);
  };
  for (int step = 0; step < 80; ++step) {
    const torch::Tensor e = enhance();
    const torch::Tensor loss = 6 * rave_loss(encoder_.embed(e), residual_.residual, residual_.tau) +
                               0.9 * kIdentityLossWeight * identity_distance(identity.taps(e), input_taps, kIdentityWeights);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor e = enhance();
  for (int i = 0; i < 4; ++i) {
    const double before = psnr(x[i], truth[i]), after = psnr(e[i], truth[i]);
    std::cout << "picture " << i << ": gains " << log_gain[i].exp().min().item<double>() << ".."
              << log_gain[i].exp().max().item<double>() << ", PSNR " << before << " -> " << after << " dB\n";
    EXPECT_GT(after, before + 1.5) << "picture " << i;
  }
}

TEST(PixelIdentityEncoder, FiveTapsZeroDistanceForIdenticalImages) {
  auto encoder = make_identity_encoder("pixels");
  EXPECT_EQ(encoder->name(), "pixels");
  const torch::Tensor x = torch::rand({2, 3, 50, 70});
  const auto taps = encoder->taps(x);
  ASSERT_EQ(taps.size(), kIdentityWeights.size());
  for (size_t k = 0; k < taps.size(); ++k) {
    const int64_t side = PixelIdentityEncoder::kFinestSize >> k;
    EXPECT_EQ(taps[k].sizes(), torch::IntArrayRef({2, 9, side, side})) << k;
  }
  EXPECT_EQ(identity_distance(taps, encoder->taps(x.clone()), kIdentityWeights).item<double>(), 0.0);
  const double small = identity_distance(encoder->taps(x + 0.01), taps, kIdentityWeights).item<double>();
  const double large = identity_distance(encoder->taps(x + 0.1), taps, kIdentityWeights).item<double>();
  EXPECT_GT(small, 0);
  EXPECT_GT(large, small);
}

TEST(PixelIdentityEncoder, IsDifferentiable) {
  PixelIdentityEncoder encoder;
  const torch::Tensor target = random_images(2, 12, 8);
  std::vector<torch::Tensor> target_taps = encoder.taps(target);
  expect_gradient_matches_finite_differences(
      [&](const torch::Tensor& x) { return identity_distance(encoder.taps(x), target_taps, kIdentityWeights); },
      random_images(2, 12, 9), 60);
}

}  // namespace
}  // namespace rave::guidance
