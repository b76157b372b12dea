// The CLIP encoders end to end against the reference's losses on the tiny models: embeddings, identity taps,
// total losses and their gradients with respect to the enhanced images (fixtures/losses/loss_golden.h5).
#include "guidance/clip_encoders.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "guidance/losses.h"
#include "io/h5.h"
#include "tests/support/test_support.h"

namespace rave::guidance {
namespace {

class ClipEncoders : public testing::Test {
 protected:
  void SetUp() override {
    if (test::fixtures_dir().empty()) GTEST_SKIP() << "shared fixtures not found (set RAVE_FIXTURES_DIR)";
    golden_ = std::make_unique<io::h5::File>(io::h5::File::open((test::fixtures_dir() / "losses/loss_golden.h5").string()));
    guidance_ = make_guidance_encoder((test::fixtures_dir() / "clip/tiny_vit_state.h5").string());
    identity_ = make_identity_encoder((test::fixtures_dir() / "clip/tiny_rn_state.h5").string());
  }
  torch::Tensor read(const std::string& name) const { return golden_->read(name); }
  double scalar(const std::string& name) const { return read(name).item<double>(); }
  static double max_abs(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

  std::unique_ptr<io::h5::File> golden_;
  std::unique_ptr<GuidanceEncoder> guidance_;
  std::unique_ptr<IdentityEncoder> identity_;
};

TEST_F(ClipEncoders, GuidanceEmbeddingOfEnhancedImages) {
  EXPECT_EQ(guidance_->dim(), 32);
  EXPECT_EQ(guidance_->name(), "clip tiny_vit_state.h5");
  const auto embedding = guidance_->embed(read("batch/enhanced"));
  EXPECT_LE(max_abs(embedding, read("guidance/enhanced_image_embedding")), 1e-4);
}

TEST_F(ClipEncoders, IdentityTapsGiveTheReferencePerLayerErrors) {
  torch::NoGradGuard no_grad;
  const auto enhanced = identity_->taps(read("batch/enhanced")), input = identity_->taps(read("batch/input"));
  ASSERT_EQ(enhanced.size(), 5u);
  const auto mse = read("identity/per_sample_layer_mse");
  for (int k = 0; k < 5; ++k) {
    const auto per_sample = (enhanced[k] - input[k]).square().flatten(1).mean(1);
    EXPECT_LE(max_abs(per_sample, mse.select(1, k)), 1e-6 + 1e-4 * mse.select(1, k).abs().max().item<double>()) << k;
  }
}

TEST_F(ClipEncoders, TotalLossesAndGradientsMatchTheReference) {
  const auto input = read("batch/input");
  std::vector<torch::Tensor> input_taps;
  {
    torch::NoGradGuard no_grad;  // the input branch of the identity loss carries no gradient
    input_taps = identity_->taps(input);
  }
  const auto check = [&](const std::string& which, auto&& total_of) {
    auto enhanced = read("batch/enhanced").requires_grad_(true);
    const torch::Tensor total = total_of(enhanced);
    total.backward();
    const double expected = scalar("total/" + which);
    EXPECT_NEAR(total.item<double>(), expected, 1e-5 * std::abs(expected) + 1e-6) << which;
    const auto grad = read("grad/" + which);
    EXPECT_LE(max_abs(enhanced.grad(), grad), 1e-4 * grad.abs().max().item<double>() + 1e-7) << which;
  };
  const auto identity = [&](const torch::Tensor& e, const std::vector<double>& weights) {
    return kIdentityLossWeight * identity_distance(identity_->taps(e), input_taps, weights);
  };
  check("rave", [&](const torch::Tensor& e) {
    return 6 * rave_loss(guidance_->embed(e), read("residual/residual_vector"), scalar("residual/thr")) +
           0.9 * identity(e, kIdentityWeights);
  });
  check("cliplit", [&](const torch::Tensor& e) {
    return clip_lit_loss(guidance_->embed(e), read("guidance/text_features")) + 0.9 * identity(e, kIdentityWeights);
  });
  check("reconstruction", [&](const torch::Tensor& e) { return identity(e, kReconstructionWeights); });
}

}  // namespace
}  // namespace rave::guidance
