// The ViT image tower. Registration order follows the OpenAI state dict.
#include "models/clip/vision_transformer.h"

#include <cmath>

namespace rave::models {

VisionTransformerImpl::VisionTransformerImpl(const VisionTransformerOptions& o) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(o.width));
  const int64_t grid = o.resolution / o.patch;
  class_embedding = register_parameter("class_embedding", torch::randn({o.width}) * scale);
  positional_embedding = register_parameter("positional_embedding", torch::randn({grid * grid + 1, o.width}) * scale);
  proj = register_parameter("proj", torch::randn({o.width, o.output_dim}) * scale);
  conv1 = register_module("conv1",
                          torch::nn::Conv2d(torch::nn::Conv2dOptions(3, o.width, o.patch).stride(o.patch).bias(false)));
  ln_pre = register_module("ln_pre", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width}).eps(1e-5)));
  transformer = register_module("transformer", Transformer(o.width, o.layers, o.heads));
  ln_post = register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width}).eps(1e-5)));
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = conv1(images.to(conv1->weight.scalar_type()));  // [B, width, grid, grid]
  x = x.flatten(2).transpose(1, 2);                                 // [B, grid², width], row-major patches
  const torch::Tensor cls = class_embedding.to(x.scalar_type()).expand({x.size(0), 1, x.size(2)});
  x = torch::cat({cls, x}, 1) + positional_embedding.to(x.scalar_type());
  // Only the class token is read out, so the last block computes it alone.
  x = transformer->first_position(layer_norm_fp32(ln_pre, x));
  return torch::matmul(layer_norm_fp32(ln_post, x.select(1, 0)), proj);
}

}  // namespace rave::models
