// FoldedConvBn against the pair it replaces (conv, then BatchNorm on its running statistics): the same values and
// input gradients, rebuilt after every kind of change to the pair, gradients to the pair's own tensors when they
// ask for them, and folded tensors usable with autograd after a first forward under InferenceMode.
#include "models/clip/folded_conv_bn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace rave::models {
namespace {

struct Pair {
  torch::nn::Conv2d conv{torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).bias(false)};
  torch::nn::BatchNorm2d bn{6};
  FoldedConvBn folded{conv, bn};

  Pair() {
    torch::manual_seed(3);
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_(0, 0.2);
    bn->running_mean.normal_(0, 0.2);
    bn->running_var.uniform_(0.5, 2.0);
    for (auto& p : conv->parameters()) p.set_requires_grad(false);
    for (auto& p : bn->parameters()) p.set_requires_grad(false);
  }
  torch::Tensor unfolded(const torch::Tensor& x) {
    return torch::batch_norm(conv(x), bn->weight, bn->bias, bn->running_mean, bn->running_var, false, 0.0,
                             bn->options.eps(), true);
  }
};

double max_relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(FoldedConvBn, EqualsConvThenBatchNormForwardAndBackward) {
  Pair pair;
  const torch::Tensor x = torch::randn({2, 4, 9, 8}, torch::requires_grad());
  const torch::Tensor upstream = torch::randn({2, 6, 5, 4});
  const torch::Tensor folded = pair.folded(x);
  const torch::Tensor folded_grad = torch::autograd::grad({folded}, {x}, {upstream})[0];
  const torch::Tensor unfolded = pair.unfolded(x);
  const torch::Tensor unfolded_grad = torch::autograd::grad({unfolded}, {x}, {upstream})[0];
  EXPECT_EQ(folded.sizes(), unfolded.sizes());
  EXPECT_LT(max_relative_error(folded, unfolded), 1e-5);
  EXPECT_LT(max_relative_error(folded_grad, unfolded_grad), 1e-5);
}

TEST(FoldedConvBn, RebuildsAfterInPlaceWritesAndReplacedTensors) {
  Pair pair;
  const torch::Tensor x = torch::randn({1, 4, 6, 6});
  const torch::Tensor before = pair.folded(x);
  {
    torch::NoGradGuard no_grad;
    pair.bn->running_var.mul_(4);  // in place: a loaded checkpoint's copy_ does the same
  }
  const torch::Tensor after = pair.folded(x);
  EXPECT_LT(max_relative_error(after, pair.unfolded(x)), 1e-5);
  EXPECT_GT(max_relative_error(after, before), 0.1);
  pair.conv->to(torch::kFloat64);  // replaced tensors, in another dtype
  pair.bn->to(torch::kFloat64);
  const torch::Tensor x64 = x.to(torch::kFloat64);
  const torch::Tensor in_double = pair.folded(x64);
  EXPECT_EQ(in_double.scalar_type(), torch::kFloat64);
  EXPECT_LT(max_relative_error(in_double, pair.unfolded(x64)), 1e-12);
}

TEST(FoldedConvBn, TrainablePairGetsItsGradients) {
  Pair pair;
  pair.bn->weight.set_requires_grad(true);
  pair.conv->weight.set_requires_grad(true);
  pair.folded(torch::randn({1, 4, 6, 6})).sum().backward();
  ASSERT_TRUE(pair.bn->weight.grad().defined());
  ASSERT_TRUE(pair.conv->weight.grad().defined());
  EXPECT_GT(pair.conv->weight.grad().abs().sum().item<double>(), 0);
}

TEST(FoldedConvBn, FirstBuiltUnderInferenceModeStillServesAutograd) {
  Pair pair;
  {
    c10::InferenceMode inference;
    pair.folded(torch::randn({1, 4, 6, 6}));
  }
  const torch::Tensor x = torch::randn({1, 4, 6, 6}, torch::requires_grad());
  pair.folded(x).sum().backward();
  ASSERT_TRUE(x.grad().defined());
}

}  // namespace
}  // namespace rave::models
