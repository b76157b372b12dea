// reflect_pad1 against LibTorch's reflection_pad2d: the same values forward, the same gradients backward, for every
// dtype the enhancer meets, both memory formats, odd and smallest sizes, non-contiguous input, and LibTorch's own
// error below 2 pixels.
#include "models/reflect_pad.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <utility>
#include <vector>

namespace rave::models {
namespace {

torch::Tensor libtorch_pad(const torch::Tensor& x) { return torch::reflection_pad2d(x, {1, 1, 1, 1}); }

// The padded map and the gradient the padding sends back to x for the upstream gradient `upstream`.
using Padding = std::function<torch::Tensor(const torch::Tensor&)>;

std::pair<torch::Tensor, torch::Tensor> padded_and_gradient(const torch::Tensor& x, const torch::Tensor& upstream,
                                                            const Padding& pad) {
  const torch::Tensor leaf = x.detach().requires_grad_(true);
  const torch::Tensor padded = pad(leaf);
  padded.backward(upstream.to(padded.scalar_type()));
  return {padded.detach(), leaf.grad()};
}

TEST(ReflectPad1, EqualsLibTorchForwardAndBackward) {
  for (const auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16}) {
    for (const auto& size : std::vector<std::vector<int64_t>>{{2, 3, 2, 2}, {1, 5, 7, 3}, {2, 4, 16, 33}}) {
      SCOPED_TRACE(c10::str(dtype, " ", size));
      torch::manual_seed(1);
      const torch::Tensor x = torch::randn(size).to(dtype);
      const torch::Tensor upstream = torch::randn({size[0], size[1], size[2] + 2, size[3] + 2}).to(dtype);
      // LibTorch 1.13 has no bfloat16 reflection_pad2d on the CPU (autocast runs it in float32): the reference
      // pads the same values in float32, which represents every bfloat16 exactly.
      const torch::ScalarType reference_dtype = dtype == torch::kBFloat16 ? torch::kFloat32 : dtype;
      const auto [ours, our_grad] = padded_and_gradient(x, upstream, reflect_pad1);
      const auto [theirs, their_grad] = padded_and_gradient(x.to(reference_dtype), upstream, libtorch_pad);
      EXPECT_TRUE(torch::equal(ours, theirs.to(dtype)));
      // A corner pixel sums four upstream values, an edge pixel two, here in the input's own type.
      const double tolerance = dtype == torch::kBFloat16 ? 5e-2 : 1e-6;
      EXPECT_TRUE(torch::allclose(our_grad.to(torch::kFloat64), their_grad.to(torch::kFloat64), 0, tolerance));
    }
  }
}

TEST(ReflectPad1, ChannelsLastKeepsItsLayoutAndValues) {
  for (const auto& size : std::vector<std::vector<int64_t>>{{2, 3, 2, 2}, {1, 5, 7, 3}, {2, 16, 9, 33}}) {
    SCOPED_TRACE(c10::str(size));
    torch::manual_seed(3);
    const torch::Tensor x = torch::randn(size).contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor upstream = torch::randn({size[0], size[1], size[2] + 2, size[3] + 2});
    const auto [ours, our_grad] = padded_and_gradient(x, upstream, reflect_pad1);
    const auto [theirs, their_grad] = padded_and_gradient(x.contiguous(), upstream, libtorch_pad);
    EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(our_grad.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::equal(ours, theirs));
    EXPECT_TRUE(torch::allclose(our_grad, their_grad, 0, 1e-6));
  }
}

TEST(ReflectPad1, ReadsNonContiguousInput) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({2, 6, 9, 4}).transpose(2, 3);
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_TRUE(torch::equal(reflect_pad1(x), libtorch_pad(x)));
}

TEST(ReflectPad1, GradientIsTheAdjoint) {
  // <pad(e_i), u> = pad^T(u)_i for every basis vector e_i: the backward is the adjoint of the forward copy (float64;
  // the two sides add the same at most four terms in different orders).
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({1, 2, 4, 5}, torch::kFloat64).requires_grad_(true);
  const torch::Tensor upstream = torch::randn({1, 2, 6, 7}, torch::kFloat64);
  const torch::Tensor grad = torch::autograd::grad({reflect_pad1(x)}, {x}, {upstream})[0];
  for (int64_t i = 0; i < x.numel(); ++i) {
    torch::Tensor basis = torch::zeros_like(x);
    basis.view(-1)[i] = 1.0;
    EXPECT_NEAR((reflect_pad1(basis) * upstream).sum().item<double>(), grad.view(-1)[i].item<double>(), 1e-12);
  }
}

TEST(ReflectPad1, RefusesWhatLibTorchRefuses) {
  EXPECT_THROW(reflect_pad1(torch::zeros({1, 1, 1, 5})), c10::Error);
  EXPECT_THROW(reflect_pad1(torch::zeros({1, 1, 5, 1})), c10::Error);
}

}  // namespace
}  // namespace rave::models
