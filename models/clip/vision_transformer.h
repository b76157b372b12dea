// CLIP's vision transformer image encoder (ALGORITHMS §1.2): patchify with a bias-free convolution, prepend the
// class embedding, add positional embeddings, ln_pre, transformer (its last block for the class token alone), ln_post
// on the class token, project.
// Registered names are those under "visual." in the OpenAI state dict.
#pragma once

#include <torch/nn/modules/conv.h>

#include "models/clip/transformer.h"

namespace rave::models {

struct VisionTransformerOptions {
  int64_t resolution = 224, patch = 32, width = 768, layers = 12, heads = 12, output_dim = 512;
};

class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(const VisionTransformerOptions& options);
  // Normalised images [B, 3, R, R] -> un-normalised embeddings [B, output_dim].
  torch::Tensor forward(const torch::Tensor& images);

  torch::nn::Conv2d conv1{nullptr};
  torch::Tensor class_embedding, positional_embedding, proj;
  torch::nn::LayerNorm ln_pre{nullptr};
  Transformer transformer{nullptr};
  torch::nn::LayerNorm ln_post{nullptr};
};
TORCH_MODULE(VisionTransformer);

}  // namespace rave::models
