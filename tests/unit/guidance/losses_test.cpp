// Losses against values computed independently: closed forms on small inputs, and the reference's
// outputs in fixtures/losses/loss_golden.h5 (produced by the authors' per-sample code on the tiny models).
#include "guidance/losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "io/h5.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

// Softmax probabilities of logits scaled by 100: float32 rounding of the dot products (~1e-7 relative) moves
// them by a few 1e-6, and by how much depends on the BLAS kernel the machine picks.
constexpr double kProbabilityRtol = 1e-4, kProbabilityAtol = 1e-6;

double value(const torch::Tensor& t) { return t.item<double>(); }

TEST(Losses, BacklitProbabilityIsASigmoidOfTheDifference) {
  // s(f) = sigmoid(100 <f, n(g0) - n(g1)>) (ALGORITHMS §4.1.1).
  const auto f = torch::tensor({{0.6f, 0.8f}, {1.0f, 0.0f}});
  const auto pair = torch::tensor({{2.0f, 0.0f}, {0.0f, 3.0f}});
  const auto s = backlit_probability(f, pair);
  EXPECT_NEAR(value(s[0]), 1.0 / (1.0 + std::exp(-100 * (0.6 - 0.8))), 1e-7);
  EXPECT_NEAR(value(s[1]), 1.0 / (1.0 + std::exp(-100 * 1.0)), 1e-7);
}

TEST(Losses, RaveLossClosedForm) {
  const auto f = torch::tensor({{3.0f, 4.0f}, {0.0f, 2.0f}});  // unit: (0.6, 0.8), (0, 1)
  const auto r = torch::tensor({0.0f, 5.0f});                  // unit: (0, 1)
  const double tau = 0.5;
  const double expected = 320 * ((0.8 - tau) * (0.8 - tau) + (1 - tau) * (1 - tau)) / 2;
  EXPECT_NEAR(value(rave_loss(f, r, tau)), expected, 1e-4);
}

TEST(Losses, IdentityDistanceSumsOverTheBatchAndMeansOverEachTap) {
  // Two samples, two taps; differences are constants so every per-sample mean is that constant squared.
  const auto a0 = torch::zeros({2, 3, 4, 4}), a1 = torch::zeros({2, 5, 2, 2});
  auto b0 = torch::zeros({2, 3, 4, 4}), b1 = torch::zeros({2, 5, 2, 2});
  b0[0].fill_(1), b0[1].fill_(2), b1[0].fill_(3), b1[1].fill_(4);
  const double expected = 1.0 * (1 + 4) + 0.5 * (9 + 16);
  EXPECT_NEAR(value(identity_distance({a0, a1}, {b0, b1}, {1.0, 0.5})), expected, 1e-6);
  EXPECT_THROW(identity_distance({a0}, {b0, b1}, {1.0, 0.5}), Error);
}

TEST(Losses, MarginRankingHinge) {
  const auto a = torch::tensor({0.9f, 0.2f}), b = torch::tensor({0.1f, 0.5f});
  // max(0, 0.5 - 0.8) = 0 and max(0, 0.5 + 0.3) = 0.8 -> mean 0.4
  EXPECT_NEAR(value(margin_ranking(a, b, 0.5)), 0.4, 1e-6);
}

TEST(Losses, GradientsReachTheFeatures) {
  auto f = torch::randn({3, 8}, torch::requires_grad());
  const auto loss = rave_loss(f, torch::randn({8}), 0.1) + clip_lit_loss(f, torch::randn({2, 8}));
  loss.backward();
  EXPECT_GT(f.grad().abs().sum().item<double>(), 0);
}

class LossGolden : public testing::Test {
 protected:
  void SetUp() override {
    if (test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)";
    file_ = std::make_unique<io::h5::File>(io::h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string()));
  }
  torch::Tensor read(const std::string& name) const { return file_->read(name); }
  double scalar(const std::string& name) const { return read(name).item<double>(); }

  std::unique_ptr<io::h5::File> file_;
};

TEST_F(LossGolden, RaveGuidanceLoss) {
  const auto loss = rave_loss(read("guidance/enhanced_image_embedding"), read("residual/residual_vector"),
                              scalar("residual/thr"));
  EXPECT_NEAR(value(loss), scalar("guidance/rave_cliploss"), 1e-4);
}

TEST_F(LossGolden, ClipLitGuidanceLossAndProbabilities) {
  const auto f = read("guidance/enhanced_image_embedding");
  const auto pair = read("guidance/text_features");
  EXPECT_NEAR(value(clip_lit_loss(f, pair)), scalar("guidance/cliplit_cliploss"), test::golden_tolerance(1e-4, 5e-4));
  const auto unit = f / f.norm(2, 1, true);
  EXPECT_TRUE(torch::allclose(backlit_probability(unit, pair), read("guidance/softmax_probs").select(1, 0),
                              kProbabilityRtol, kProbabilityAtol));
}

TEST_F(LossGolden, MarginRankingForTwoThreeAndFourImageTuples) {
  const auto pair = read("guidance/text_features");
  const auto s = [&](const std::string& which) { return backlit_probability(read("margin/features_" + which), pair); };
  EXPECT_TRUE(torch::allclose(s("inp"), read("margin/probs_inp"), kProbabilityRtol, kProbabilityAtol));
  EXPECT_NEAR(value(ranking_loss(s("inp"), s("ref"))), scalar("margin/loss_num2_m1.0_0.2"), 1e-3);
  EXPECT_NEAR(value(kRankingLossWeight * margin_ranking(s("inp"), s("ref"), 0.9)), scalar("margin/loss_num2_m0.9_0.2"),
              1e-3);
  EXPECT_NEAR(value(ranking_loss(s("inp"), s("ref"), s("semi1"))), scalar("margin/loss_num3_m0.9_0.2"), 1e-3);
  EXPECT_NEAR(value(ranking_loss(s("inp"), s("ref"), s("semi1"), s("semi2"))), scalar("margin/loss_num4_m0.9_0.1"),
              1e-3);
}

TEST_F(LossGolden, GuidanceInitialisationCrossEntropy) {
  const auto pair = read("guidance/text_features");
  const auto features = torch::cat({read("margin/features_inp"), read("margin/features_ref")});
  EXPECT_TRUE(torch::allclose(guidance_logits(features, pair), read("prompt_init/logits"), 0, 1e-4));
  EXPECT_NEAR(value(guidance_init_loss(features, read("prompt_init/labels"), pair)),
              scalar("prompt_init/cross_entropy"), 1e-5);
}

TEST_F(LossGolden, IdentityWeightsCombineThePerLayerErrors) {
  // The per-sample, per-tap MSEs of the reference, weighted and summed over the batch as D() does.
  const auto mse = read("identity/per_sample_layer_mse");
  std::vector<torch::Tensor> zeros, roots;
  for (int k = 0; k < 5; ++k) {
    zeros.push_back(torch::zeros({2, 1}));
    roots.push_back(mse.select(1, k).sqrt().unsqueeze(1));  // a tap whose mean square error is mse[:, k]
  }
  EXPECT_NEAR(value(identity_distance(roots, zeros, kIdentityWeights)), scalar("identity/L_w11110.5"), 1e-9);
  EXPECT_NEAR(value(identity_distance(roots, zeros, kReconstructionWeights)), scalar("identity/L_w11111"), 1e-9);
}

}  // namespace
}  // namespace rave::guidance
