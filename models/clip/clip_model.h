// models::ClipModel: a frozen OpenAI CLIP model (ARCHITECTURE §3) — image tower (ViT or ModifiedResNet), causal
// text transformer, the soft-prompt path of CLIP-LIT and the ResNet feature taps of the identity loss. Module
// and parameter names equal the OpenAI state-dict keys, so loading (loader.h) is a name match.
//
// CLIP is never trained here: parameters are created with requires_grad = false, so no autograd state is kept
// for them, while gradients still flow to the inputs (enhanced images, prompt embeddings).
#pragma once

#include <torch/nn/modules/embedding.h>

#include <vector>

#include "models/clip/config.h"
#include "models/clip/modified_resnet.h"
#include "models/clip/precision.h"
#include "models/clip/transformer.h"
#include "models/clip/vision_transformer.h"

namespace rave::models {

// The text tower's keys and values of the start token at every block (ClipModelImpl::cache_start_token).
struct StartTokenCache {
  int64_t start_of_text = 0;
  std::vector<KeyValues> blocks;
};

class ClipModelImpl : public torch::nn::Module {
 public:
  // Random initialisation (what the reference CLIP class does); load_clip fills in real weights.
  explicit ClipModelImpl(const ClipConfig& config);

  const ClipConfig& config() const { return config_; }
  // bf16 runs the encoders under autocast; every output is float32 either way.
  void set_precision(Precision precision) { precision_ = precision; }
  Precision precision() const { return precision_; }

  // Normalised images [B, 3, R, R] (R = config().image_resolution) -> un-normalised embeddings [B, embed_dim]:
  // the ViT output, or the ResNet attention-pool output.
  torch::Tensor encode_image(const torch::Tensor& images);
  // ModifiedResNet only: [stem, layer1, layer2, layer3, layer4] feature maps (the identity-loss taps; for a
  // 224 input of RN101: 64x56x56, 256x56x56, 512x28x28, 1024x14x14, 2048x7x7). The attention pool is skipped.
  std::vector<torch::Tensor> image_features(const torch::Tensor& images);

  // Token ids [B, context] (int32 or int64, from Tokenizer::tokenize) -> [B, embed_dim], read at the first
  // end-of-text position (the argmax of each row). The batch is cut after its longest sequence first: exact,
  // because the causal mask keeps later positions from influencing earlier ones.
  torch::Tensor encode_text(const torch::Tensor& ids);
  // The soft-prompt path: token embeddings [B, context, width] given directly (learnable prompts), read at
  // eot_index ([B], or [1] for every row) -> [B, embed_dim]. Differentiable in `embeddings`.
  torch::Tensor encode_text_embeddings(const torch::Tensor& embeddings, const torch::Tensor& eot_index);
  // encode_text(ids) for rows that all begin with the start token, whose keys and values `start` holds (from
  // cache_start_token). Under the causal mask the start position attends only to itself, so its states are the same
  // in every row and are computed once: for the vocabulary sweep (rows of 2 to 6 tokens, 3 on average) that removes
  // a third of the work. Equal to encode_text up to float rounding.
  torch::Tensor encode_text_after_start(const torch::Tensor& ids, const StartTokenCache& start);
  StartTokenCache cache_start_token(int64_t start_of_text);

  // State-dict members, in the order of the OpenAI state dict.
  torch::Tensor positional_embedding, text_projection, logit_scale;
  VisionTransformer vit{nullptr};  // registered as "visual" when config().is_vit()
  ModifiedResNet resnet{nullptr};  // registered as "visual" otherwise
  Transformer transformer{nullptr};
  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::LayerNorm ln_final{nullptr};

 private:
  // x: token embeddings + positions [B, L, width], already cut to L = max(eot) + 1.
  torch::Tensor encode_text_tokens(const torch::Tensor& x, const torch::Tensor& eot_index);
  // Transformer states at the end positions [B, width] -> float32 embeddings [B, embed_dim]. ln_final is per
  // position, so normalising only the gathered end positions is the same arithmetic.
  torch::Tensor text_embedding_at_end(const torch::Tensor& end_states);
  void check_images(const torch::Tensor& images, const char* what) const;

  ClipConfig config_;
  Precision precision_ = Precision::kFloat32;
};
TORCH_MODULE(ClipModel);

}  // namespace rave::models
