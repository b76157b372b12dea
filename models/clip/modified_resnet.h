// CLIP's ModifiedResNet image encoder (ALGORITHMS §1.4): a three-convolution stem with an average pool, four
// stages of anti-aliased Bottlenecks (strides applied by average pooling), and an attention pool. The identity
// loss reads the five intermediate feature maps [stem, layer1..layer4]; the attention pool runs only for the
// embedding. Registered names are those under "visual." in the OpenAI state dict.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <array>
#include <vector>

#include "models/clip/folded_conv_bn.h"

namespace rave::models {

// conv1 (1x1) -> bn1 -> relu -> conv2 (3x3) -> bn2 -> relu -> avgpool(stride) -> conv3 (1x1, 4x) -> bn3, plus the
// shortcut (avgpool(stride) -> "downsample.0" conv 1x1 -> "downsample.1" BN when the shape changes), then relu.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  // Projection shortcut, null for the identity one; the Sequential holds the same two modules.
  torch::nn::Sequential downsample{nullptr};
  torch::nn::Conv2d downsample_conv{nullptr};
  torch::nn::BatchNorm2d downsample_bn{nullptr};

 private:
  int64_t stride_;
  FoldedConvBn conv_bn1_, conv_bn2_, conv_bn3_, downsample_conv_bn_;  // the pairs above, as run
};
TORCH_MODULE(Bottleneck);

// Multi-head attention of the mean token (plus positional embedding) over the spatial tokens; separate q/k/v
// projections, output projection c_proj; returns the mean token's output.
class AttentionPool2dImpl : public torch::nn::Module {
 public:
  AttentionPool2dImpl(int64_t grid, int64_t width, int64_t heads, int64_t output_dim);
  torch::Tensor forward(const torch::Tensor& x);  // [B, C, H, W] -> [B, output_dim]

  torch::Tensor positional_embedding;
  torch::nn::Linear k_proj{nullptr}, q_proj{nullptr}, v_proj{nullptr}, c_proj{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(AttentionPool2d);

struct ModifiedResNetOptions {
  std::vector<int64_t> layers = {3, 4, 23, 3};
  int64_t width = 64, heads = 32, resolution = 224, output_dim = 512;
};

class ModifiedResNetImpl : public torch::nn::Module {
 public:
  explicit ModifiedResNetImpl(const ModifiedResNetOptions& options);
  // [stem (after its average pool), layer1, layer2, layer3, layer4] for normalised images [B, 3, R, R].
  std::vector<torch::Tensor> features(const torch::Tensor& images);
  // The attention-pool embedding [B, output_dim] (features, then attnpool on layer4).
  torch::Tensor forward(const torch::Tensor& images);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  AttentionPool2d attnpool{nullptr};

 private:
  std::array<FoldedConvBn, 3> stem_;  // (conv1, bn1), (conv2, bn2), (conv3, bn3), as run
};
TORCH_MODULE(ModifiedResNet);

}  // namespace rave::models
