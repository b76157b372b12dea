// The hyper-parameters of a CLIP model, and how they are recovered from a state dict (ALGORITHMS §1.5): every
// dimension follows from tensor shapes and key names, except the number of attention heads, which CLIP derives
// as width / 64. State files can carry the true configuration instead (the `config_json` attribute of our HDF5
// files; the tiny test models have 2 text heads at width 32).
#pragma once

#include <torch/ordered_dict.h>
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rave::models {

// Parameter and buffer tensors by state-dict key ("visual.conv1.weight"), in file order.
using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

// What a user can do about a file that holds no CLIP model: the kinds of file rave reads CLIP weights from.
inline constexpr const char* kClipFileHint =
    "expected an OpenAI CLIP .pt archive (ViT-B-32.pt, RN101.pt, ...), a torch.save'd state dict of one, or an HDF5 "
    "file written by rave import-clip";

struct ClipConfig {
  int64_t embed_dim = 512;
  int64_t image_resolution = 224;
  // A vision transformer has one entry (its depth) and a patch size; a ModifiedResNet has four stage depths
  // and vision_patch_size 0.
  std::vector<int64_t> vision_layers = {12};
  int64_t vision_width = 768;
  int64_t vision_patch_size = 32;
  // ViT: width / 64; ModifiedResNet attention pool: width * 32 / 64.
  int64_t vision_heads = 12;
  int64_t context_length = 77;
  int64_t vocab_size = 49408;
  int64_t transformer_width = 512;
  int64_t transformer_heads = 8;
  int64_t transformer_layers = 12;

  bool is_vit() const { return vision_patch_size > 0; }

  static ClipConfig vit_b32();
  static ClipConfig rn101();

  // From a state dict by CLIP's rules. `text_heads` overrides width / 64 (needed when the width is not a
  // multiple of 64). Throws IoError naming `source` when a key it needs is missing or a shape does not fit.
  static ClipConfig infer(const StateDict& state, const std::string& source,
                          std::optional<int64_t> text_heads = std::nullopt);

  // The constructor arguments of the reference CLIP class as JSON (the `config_json` attribute of the state
  // files): embed_dim, image_resolution, vision_layers (int or [4]), vision_width, vision_patch_size (int or
  // null), context_length, vocab_size, transformer_width, transformer_heads, transformer_layers. Vision heads
  // follow CLIP's rule and are not stored.
  std::string to_json() const;
  static ClipConfig from_json(const std::string& json, const std::string& source);

  // Throws rave::Error when a dimension is not usable (e.g. a width that the heads do not divide).
  void validate(const std::string& source) const;
};

}  // namespace rave::models
