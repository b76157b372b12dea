// Dimension inference from state-dict shapes (CLIP's build_model rules) and the JSON form of the configuration.
#include "models/clip/config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace rave::models {
namespace {

const torch::Tensor& need(const StateDict& state, const std::string& key, int64_t dims, const std::string& source) {
  const torch::Tensor* tensor = state.find(key);
  if (!tensor) throw IoError(source + " is not a CLIP state dict: the key '" + key + "' is missing", kClipFileHint);
  if (tensor->dim() != dims) {
    throw IoError(source + ": '" + key + "' has " + std::to_string(tensor->dim()) + " dimensions, expected " +
                      std::to_string(dims),
                  kClipFileHint);
  }
  return *tensor;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Number of distinct third dotted components among keys with the prefix: the block count of
// "transformer.resblocks.<i>.…" or "visual.layer<b>.<i>.…".
int64_t distinct_blocks(const StateDict& state, const std::string& prefix) {
  std::set<std::string> blocks;
  for (const auto& item : state) {
    const std::string& key = item.key();
    if (!starts_with(key, prefix)) continue;
    const std::size_t first = key.find('.');
    const std::size_t second = first == std::string::npos ? first : key.find('.', first + 1);
    if (second == std::string::npos) continue;
    blocks.insert(key.substr(second + 1, key.find('.', second + 1) - second - 1));
  }
  return static_cast<int64_t>(blocks.size());
}

// round(sqrt(rows - 1)): the side of the square token grid behind a positional embedding with a class token.
int64_t grid_side(const torch::Tensor& positional_embedding) {
  return std::llround(std::sqrt(static_cast<double>(positional_embedding.size(0) - 1)));
}

}  // namespace

ClipConfig ClipConfig::vit_b32() { return ClipConfig{}; }

ClipConfig ClipConfig::rn101() {
  ClipConfig c;
  c.vision_layers = {3, 4, 23, 3};
  c.vision_width = 64;
  c.vision_patch_size = 0;
  c.vision_heads = 32;
  return c;
}

ClipConfig ClipConfig::infer(const StateDict& state, const std::string& source, std::optional<int64_t> text_heads) {
  ClipConfig c;
  if (state.contains("visual.proj")) {
    const torch::Tensor& conv1 = need(state, "visual.conv1.weight", 4, source);
    c.vision_width = conv1.size(0);
    c.vision_patch_size = conv1.size(-1);
    int64_t layers = 0;
    for (const auto& item : state) {
      if (starts_with(item.key(), "visual.") && ends_with(item.key(), ".attn.in_proj_weight")) ++layers;
    }
    c.vision_layers = {layers};
    c.image_resolution = c.vision_patch_size * grid_side(need(state, "visual.positional_embedding", 2, source));
    c.vision_heads = c.vision_width / 64;
  } else {
    c.vision_layers.clear();
    for (int b = 1; b <= 4; ++b) c.vision_layers.push_back(distinct_blocks(state, "visual.layer" + std::to_string(b)));
    c.vision_width = need(state, "visual.layer1.0.conv1.weight", 4, source).size(0);
    const torch::Tensor& pool = need(state, "visual.attnpool.positional_embedding", 2, source);
    const int64_t grid = grid_side(pool);
    if (grid * grid + 1 != pool.size(0)) {
      throw IoError(source + ": visual.attnpool.positional_embedding has " + std::to_string(pool.size(0)) +
                        " rows, not a square grid plus one",
                    kClipFileHint);
    }
    c.vision_patch_size = 0;
    c.image_resolution = 32 * grid;
    c.vision_heads = c.vision_width * 32 / 64;
  }
  c.embed_dim = need(state, "text_projection", 2, source).size(1);
  c.context_length = need(state, "positional_embedding", 2, source).size(0);
  c.vocab_size = need(state, "token_embedding.weight", 2, source).size(0);
  c.transformer_width = need(state, "ln_final.weight", 1, source).size(0);
  c.transformer_heads = text_heads.value_or(c.transformer_width / 64);
  c.transformer_layers = distinct_blocks(state, "transformer.resblocks");
  c.validate(source);
  return c;
}

void ClipConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& what, const std::string& hint) {
    throw Error(source + ": unusable CLIP configuration: " + what, hint);
  };
  if (transformer_heads <= 0 || transformer_width % transformer_heads != 0) {
    fail("text width " + std::to_string(transformer_width) + " with " + std::to_string(transformer_heads) + " heads",
         "CLIP uses width / 64 heads; for other models store the heads in the HDF5 config_json "
         "(rave import-clip --text-heads N)");
  }
  if (transformer_layers <= 0 || context_length <= 0 || vocab_size <= 0 || embed_dim <= 0) {
    fail("text tower without layers, context or vocabulary", kClipFileHint);
  }
  if (is_vit()) {
    if (vision_layers.size() != 1 || vision_layers[0] <= 0) fail("a vision transformer needs one depth", kClipFileHint);
    if (vision_heads <= 0 || vision_width % vision_heads != 0 || image_resolution % vision_patch_size != 0) {
      fail("vision width " + std::to_string(vision_width) + ", patch " + std::to_string(vision_patch_size) +
               ", resolution " + std::to_string(image_resolution),
           "a ViT needs a width of at least 64 and a resolution divisible by the patch size");
    }
  } else {
    if (vision_layers.size() != 4) fail("a ModifiedResNet needs four stage depths", kClipFileHint);
    if (vision_heads <= 0 || (vision_width * 32) % vision_heads != 0 || image_resolution % 32 != 0) {
      fail("ResNet width " + std::to_string(vision_width) + ", resolution " + std::to_string(image_resolution),
           "a ModifiedResNet needs a width of at least 2 and a resolution divisible by 32");
    }
  }
}

std::string ClipConfig::to_json() const {
  nlohmann::ordered_json j;
  j["embed_dim"] = embed_dim;
  j["image_resolution"] = image_resolution;
  if (is_vit()) {
    j["vision_layers"] = vision_layers.at(0);
  } else {
    j["vision_layers"] = vision_layers;
  }
  j["vision_width"] = vision_width;
  j["vision_patch_size"] = is_vit() ? nlohmann::ordered_json(vision_patch_size) : nlohmann::ordered_json(nullptr);
  j["context_length"] = context_length;
  j["vocab_size"] = vocab_size;
  j["transformer_width"] = transformer_width;
  j["transformer_heads"] = transformer_heads;
  j["transformer_layers"] = transformer_layers;
  return j.dump();
}

ClipConfig ClipConfig::from_json(const std::string& json, const std::string& source) {
  ClipConfig c;
  try {
    const auto j = nlohmann::json::parse(json);
    c.embed_dim = j.at("embed_dim").get<int64_t>();
    c.image_resolution = j.at("image_resolution").get<int64_t>();
    const auto& layers = j.at("vision_layers");
    c.vision_layers =
        layers.is_array() ? layers.get<std::vector<int64_t>>() : std::vector<int64_t>{layers.get<int64_t>()};
    c.vision_width = j.at("vision_width").get<int64_t>();
    const auto& patch = j.at("vision_patch_size");
    c.vision_patch_size = patch.is_null() ? 0 : patch.get<int64_t>();
    c.vision_heads = c.is_vit() ? c.vision_width / 64 : c.vision_width * 32 / 64;
    c.context_length = j.at("context_length").get<int64_t>();
    c.vocab_size = j.at("vocab_size").get<int64_t>();
    c.transformer_width = j.at("transformer_width").get<int64_t>();
    c.transformer_heads = j.at("transformer_heads").get<int64_t>();
    c.transformer_layers = j.at("transformer_layers").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw IoError(source + ": the config_json attribute is not a CLIP configuration (" + e.what() + ")",
                  "rewrite the file with rave import-clip");
  }
  c.validate(source);
  return c;
}

}  // namespace rave::models
