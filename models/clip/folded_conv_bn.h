// A convolution followed by a BatchNorm2d that always uses its running statistics (CLIP's frozen ResNet,
// models/clip/modified_resnet), run as one convolution: with s = gamma / sqrt(var + eps),
//   BN(conv(x, W, b)) = conv(x, W * s, (b - mean) * s + beta).
// The normalisation's pass over every map, and its pass in the backward, disappear: 10-17 % of the RN101 tower's
// forward and backward at 224x224 on the CPU (PyTorch 1.13 and 2.11, 2 threads, the identity loss's three passes).
//
// Invariants:
// - The folded weight and bias are rebuilt whenever a tensor of the pair has changed since they were made: replaced
//   (a load, .to()) or written in place (its version counter). They are computed in float64 and stored in the
//   weight's dtype, so they differ from the unfolded pair by rounding only (about 1e-6 relative in float32).
// - They are used only while no tensor of the pair requires a gradient and none is an inference tensor (which has
//   no version counter); otherwise the pair runs as the two modules, and gradients reach both as before.
// - They are never inference tensors, even when first needed under InferenceMode: a later forward with autograd
//   saves them for its backward.
// - Forwards may run concurrently: the rebuild holds a mutex, and each forward keeps the pair it read alive.
// - The convolution pads with zeros (only its padding sizes reach the functional convolution); anything else runs
//   unfolded.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <memory>

namespace rave::models {

class FoldedConvBn {
 public:
  FoldedConvBn() = default;
  FoldedConvBn(torch::nn::Conv2d conv, torch::nn::BatchNorm2d bn);

  torch::Tensor operator()(const torch::Tensor& x) const;

 private:
  struct State;
  std::array<torch::Tensor, 6> tensors() const;  // the pair's: conv weight and bias, BatchNorm's four
  bool foldable() const;
  torch::Tensor unfolded(const torch::Tensor& x) const;
  // The convolution's strides, padding, dilation and groups, with these tensors.
  torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) const;

  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  std::shared_ptr<State> state_;
};

}  // namespace rave::models
