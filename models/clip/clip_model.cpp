// The CLIP model: towers built from a ClipConfig, text encoding with EOT pooling and batch truncation.
#include "models/clip/clip_model.h"

#include <cmath>
#include <limits>

#include "dist/error.h"

namespace rave::models {

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
  const int64_t length = x.size(1);
  const torch::Tensor mask =
      torch::full({length, length}, -std::numeric_limits<float>::infinity(), x.options().dtype(torch::kFloat32))
          .triu(1);
  const torch::Tensor h = transformer(x, mask);
  // ln_final is per position, so normalising only the gathered end positions is the same arithmetic.
  const torch::Tensor rows = torch::arange(x.size(0), eot_index.options());
  return torch::matmul(layer_norm_fp32(ln_final, h.index({rows, eot_index})), text_projection).to(torch::kFloat32);
}

}  // namespace rave::models
