// The ModifiedResNet image tower. BatchNorm always uses its running statistics (CLIP is frozen here, so the
// module's train/eval flag must not turn on batch statistics), folded into the convolution before it
// (models/clip/folded_conv_bn.h).
#include "models/clip/modified_resnet.h"

#include <cmath>

#include "models/clip/transformer.h"

namespace rave::models {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

torch::Tensor pool(const torch::Tensor& x, int64_t stride) {
  return stride > 1 ? torch::avg_pool2d(x, {stride, stride}) : x;
}

torch::nn::Sequential make_stage(int64_t& in_planes, int64_t planes, int64_t blocks, int64_t stride) {
  torch::nn::Sequential stage;
  stage->push_back(Bottleneck(in_planes, planes, stride));
  in_planes = planes * BottleneckImpl::kExpansion;
  for (int64_t i = 1; i < blocks; ++i) stage->push_back(Bottleneck(in_planes, planes, 1));
  return stage;
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride) : stride_(stride) {
  conv1 = register_module("conv1", conv(in_planes, planes, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion));
  conv_bn1_ = FoldedConvBn(conv1, bn1);
  conv_bn2_ = FoldedConvBn(conv2, bn2);
  conv_bn3_ = FoldedConvBn(conv3, bn3);
  if (stride > 1 || in_planes != planes * kExpansion) {
    // The reference's Sequential is ("-1": AvgPool2d, "0": conv, "1": BN); the pool has no tensors, so the
    // state-dict names are downsample.0.* and downsample.1.*, and forward applies the pool itself.
    downsample_conv = conv(in_planes, planes * kExpansion, 1);
    downsample_bn = torch::nn::BatchNorm2d(planes * kExpansion);
    downsample = register_module("downsample", torch::nn::Sequential(downsample_conv, downsample_bn));
    downsample_conv_bn_ = FoldedConvBn(downsample_conv, downsample_bn);
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = torch::relu(conv_bn1_(x));
  out = torch::relu(conv_bn2_(out));
  out = conv_bn3_(pool(out, stride_));
  const torch::Tensor identity = downsample ? downsample_conv_bn_(pool(x, stride_)) : x;
  return torch::relu(out + identity);
}

AttentionPool2dImpl::AttentionPool2dImpl(int64_t grid, int64_t width, int64_t heads, int64_t output_dim)
    : heads_(heads) {
  positional_embedding = register_parameter(
      "positional_embedding", torch::randn({grid * grid + 1, width}) / std::sqrt(static_cast<double>(width)));
  k_proj = register_module("k_proj", torch::nn::Linear(width, width));
  q_proj = register_module("q_proj", torch::nn::Linear(width, width));
  v_proj = register_module("v_proj", torch::nn::Linear(width, width));
  c_proj = register_module("c_proj", torch::nn::Linear(width, output_dim));
}

torch::Tensor AttentionPool2dImpl::forward(const torch::Tensor& features) {
  const int64_t batch = features.size(0), width = features.size(1), head_dim = width / heads_;
  torch::Tensor x = features.flatten(2).transpose(1, 2);  // [B, HW, C]
  x = torch::cat({x.mean(1, /*keepdim=*/true), x}, 1) + positional_embedding.to(x.scalar_type());
  const int64_t length = x.size(1);
  auto per_head = [&](const torch::Tensor& t, int64_t rows) {
    return t.reshape({batch, rows, heads_, head_dim}).transpose(1, 2).reshape({batch * heads_, rows, head_dim});
  };
  // Only the mean token queries; its output is the embedding.
  const torch::Tensor q = per_head(linear(q_proj, x.narrow(1, 0, 1)), 1) / std::sqrt(static_cast<double>(head_dim));
  const torch::Tensor k = per_head(linear(k_proj, x), length), v = per_head(linear(v_proj, x), length);
  const torch::Tensor out = torch::bmm(torch::softmax(torch::bmm(q, k.transpose(1, 2)), -1), v);  // [B·H, 1, hd]
  return linear(c_proj, out.view({batch, heads_ * head_dim}));
}

ModifiedResNetImpl::ModifiedResNetImpl(const ModifiedResNetOptions& o) {
  conv1 = register_module("conv1", conv(3, o.width / 2, 3, 2));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(o.width / 2));
  conv2 = register_module("conv2", conv(o.width / 2, o.width / 2, 3));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(o.width / 2));
  conv3 = register_module("conv3", conv(o.width / 2, o.width, 3));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(o.width));
  int64_t in_planes = o.width;
  layer1 = register_module("layer1", make_stage(in_planes, o.width, o.layers.at(0), 1));
  layer2 = register_module("layer2", make_stage(in_planes, o.width * 2, o.layers.at(1), 2));
  layer3 = register_module("layer3", make_stage(in_planes, o.width * 4, o.layers.at(2), 2));
  layer4 = register_module("layer4", make_stage(in_planes, o.width * 8, o.layers.at(3), 2));
  attnpool = register_module("attnpool", AttentionPool2d(o.resolution / 32, o.width * 32, o.heads, o.output_dim));
  stem_ = {FoldedConvBn(conv1, bn1), FoldedConvBn(conv2, bn2), FoldedConvBn(conv3, bn3)};
}

std::vector<torch::Tensor> ModifiedResNetImpl::features(const torch::Tensor& images) {
  torch::Tensor x = images;
  for (const FoldedConvBn& conv_bn : stem_) x = torch::relu(conv_bn(x));
  std::vector<torch::Tensor> taps{torch::avg_pool2d(x, {2, 2})};
  for (auto* stage : {&layer1, &layer2, &layer3, &layer4}) taps.push_back((*stage)->forward(taps.back()));
  return taps;
}

torch::Tensor ModifiedResNetImpl::forward(const torch::Tensor& images) { return attnpool(features(images).back()); }

}  // namespace rave::models
