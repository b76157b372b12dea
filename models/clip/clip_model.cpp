// The CLIP model: towers built from a ClipConfig, text encoding with EOT pooling and batch truncation.
#include "models/clip/clip_model.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace rave::models {
namespace {

// The additive causal mask of `queries` positions that end a sequence of `keys` positions (the last query is the
// last key): -inf where a key comes after its query, float32 whatever the working dtype.
torch::Tensor causal_mask(int64_t queries, int64_t keys, const torch::TensorOptions& options) {
  return torch::full({queries, keys}, -std::numeric_limits<float>::infinity(), options.dtype(torch::kFloat32))
      .triu(keys - queries + 1);
}

}  // namespace

ClipModelImpl::ClipModelImpl(const ClipConfig& c) : config_(c) {
  c.validate("ClipModel");
  positional_embedding =
      register_parameter("positional_embedding", torch::randn({c.context_length, c.transformer_width}) * 0.01);
  text_projection = register_parameter("text_projection", torch::randn({c.transformer_width, c.embed_dim}) /
                                                              std::sqrt(static_cast<double>(c.transformer_width)));
  logit_scale = register_parameter("logit_scale", torch::full({}, std::log(1.0 / 0.07)));
  if (c.is_vit()) {
    vit = register_module(
        "visual", VisionTransformer(VisionTransformerOptions{c.image_resolution, c.vision_patch_size, c.vision_width,
                                                             c.vision_layers.at(0), c.vision_heads, c.embed_dim}));
  } else {
    resnet =
        register_module("visual", ModifiedResNet(ModifiedResNetOptions{c.vision_layers, c.vision_width, c.vision_heads,
                                                                       c.image_resolution, c.embed_dim}));
  }
  transformer =
      register_module("transformer", Transformer(c.transformer_width, c.transformer_layers, c.transformer_heads));
  token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.transformer_width));
  ln_final =
      register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.transformer_width}).eps(1e-5)));
  for (auto& parameter : parameters()) parameter.set_requires_grad(false);
  eval();
}

void ClipModelImpl::check_images(const torch::Tensor& images, const char* what) const {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw Error(
        std::string(what) + " takes normalised images [B, 3, H, W]; got " + std::to_string(images.dim()) + "-d input",
        "preprocess with io::clip_preprocess (variant B) or squash_bilinear + clip_normalize (variant A)");
  }
}

torch::Tensor ClipModelImpl::encode_image(const torch::Tensor& images) {
  check_images(images, "encode_image");
  const int64_t r = config_.image_resolution;
  if (images.size(2) != r || images.size(3) != r) {
    throw Error("encode_image: this CLIP model takes " + std::to_string(r) + "x" + std::to_string(r) + " images; got " +
                    std::to_string(images.size(2)) + "x" + std::to_string(images.size(3)),
                "resize to the model's resolution first (io/resize.h)");
  }
  AutocastGuard autocast(precision_, images.device());
  return (vit ? vit(images) : resnet(images)).to(torch::kFloat32);
}

std::vector<torch::Tensor> ClipModelImpl::image_features(const torch::Tensor& images) {
  if (!resnet) {
    throw Error("image_features: the feature taps exist only for ModifiedResNet image towers; this model is a ViT",
                "use a ResNet CLIP (RN101.pt) as the identity encoder");
  }
  check_images(images, "image_features");
  AutocastGuard autocast(precision_, images.device());
  std::vector<torch::Tensor> taps = resnet->features(images);
  for (auto& tap : taps) tap = tap.to(torch::kFloat32);
  return taps;
}

torch::Tensor ClipModelImpl::encode_text(const torch::Tensor& ids) {
  if (ids.dim() != 2 || ids.size(1) > config_.context_length || ids.is_floating_point()) {
    throw Error("encode_text takes integer token ids [B, L] with L <= " + std::to_string(config_.context_length),
                "tokenize with models::Tokenizer::tokenize");
  }
  // The end token has the largest id, so the first argmax of a row is its end position.
  const torch::Tensor eot = ids.argmax(-1);
  const int64_t length = eot.max().item<int64_t>() + 1;
  const torch::Tensor x =
      token_embedding(ids.narrow(1, 0, length).to(torch::kLong)) + positional_embedding.narrow(0, 0, length);
  return encode_text_tokens(x, eot);
}

torch::Tensor ClipModelImpl::encode_text_embeddings(const torch::Tensor& embeddings, const torch::Tensor& eot_index) {
  if (embeddings.dim() != 3 || embeddings.size(1) > config_.context_length ||
      embeddings.size(2) != config_.transformer_width) {
    throw Error("encode_text_embeddings takes token embeddings [B, L, " + std::to_string(config_.transformer_width) +
                    "] with L <= " + std::to_string(config_.context_length),
                "the prompt tensor has the shape of token_embedding's output");
  }
  const torch::Tensor eot = eot_index.to(embeddings.device(), torch::kLong).reshape({-1}).expand({embeddings.size(0)});
  const int64_t length = eot.max().item<int64_t>() + 1;
  if (eot.min().item<int64_t>() < 0 || length > embeddings.size(1)) {
    throw Error("encode_text_embeddings: end-of-text index outside the " + std::to_string(embeddings.size(1)) +
                    " prompt positions",
                "the index is the position of the end token in the tokenised prompt (17 for 16 placeholder words)");
  }
  return encode_text_tokens(embeddings.narrow(1, 0, length) + positional_embedding.narrow(0, 0, length), eot);
}

torch::Tensor ClipModelImpl::encode_text_tokens(const torch::Tensor& x, const torch::Tensor& eot_index) {
  AutocastGuard autocast(precision_, x.device());
  const torch::Tensor h = transformer(x, causal_mask(x.size(1), x.size(1), x.options()));
  return text_embedding_at_end(h.index({torch::arange(x.size(0), eot_index.options()), eot_index}));
}

torch::Tensor ClipModelImpl::text_embedding_at_end(const torch::Tensor& end_states) {
  return torch::matmul(layer_norm_fp32(ln_final, end_states), text_projection).to(torch::kFloat32);
}

StartTokenCache ClipModelImpl::cache_start_token(int64_t start_of_text) {
  if (start_of_text < 0 || start_of_text >= config_.vocab_size) {
    throw Error("cache_start_token: token id " + std::to_string(start_of_text) + " is outside the vocabulary");
  }
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(precision_, text_projection.device());
  const torch::Tensor x = (token_embedding->weight[start_of_text] + positional_embedding[0]).reshape({1, 1, -1});
  return {start_of_text, transformer->prefix_key_values(x)};  // one position: no mask
}

torch::Tensor ClipModelImpl::encode_text_after_start(const torch::Tensor& ids, const StartTokenCache& start) {
  if (ids.dim() != 2 || ids.size(1) < 2 || ids.size(1) > config_.context_length || ids.is_floating_point() ||
      !ids.select(1, 0).eq(start.start_of_text).all().item<bool>() ||
      start.blocks.size() != transformer->resblocks->size()) {
    throw Error("encode_text_after_start takes token ids [B, 2 <= L <= " + std::to_string(config_.context_length) +
                    "] that all begin with the cached start token",
                "cache the start token with cache_start_token of the same model");
  }
  const torch::Tensor device_ids = ids.to(text_projection.device(), torch::kLong);
  const torch::Tensor eot = device_ids.argmax(-1);  // the first end token (the largest id), at position >= 1
  const int64_t rest = eot.max().item<int64_t>();    // positions 1..rest; position 0 lives in the cache
  if (rest < 1 || eot.min().item<int64_t>() < 1) {
    throw Error("encode_text_after_start: a row has no end token after its start token");
  }
  AutocastGuard autocast(precision_, device_ids.device());
  const torch::Tensor x =
      token_embedding(device_ids.narrow(1, 1, rest)) + positional_embedding.narrow(0, 1, rest);
  // Query i (position i + 1) sees keys 0..i + 1: the start position and the row's own positions up to itself.
  const torch::Tensor h = transformer->forward_after(x, start.blocks, causal_mask(rest, rest + 1, x.options()));
  return text_embedding_at_end(h.index({torch::arange(x.size(0), device_ids.options()), eot - 1}));
}

}  // namespace rave::models
