// Reading and writing CLIP weights (ALGORITHMS §1.5):
//   * OpenAI TorchScript archives (ViT-B-32.pt, RN101.pt, ...) through torch::jit::load: named parameters and
//     buffers are the state-dict keys; fp16 tensors are upcast to float32; the integer entries input_resolution,
//     context_length, vocab_size and BatchNorm's num_batches_tracked are ignored. When the file name is one of
//     OpenAI's, its SHA-256 is compared with the one in OpenAI's download URL and a mismatch is logged as a warning.
//   * State dicts written by torch.save (model.state_dict() of one of those models, nn.DataParallel's "module."
//     prefix removed) through rave's own .pth reader (io/torch_zip), the same keys.
//   * Our HDF5 state files: one float32 dataset per key (names verbatim, dots included) and the configuration in
//     the `config_json` attribute; no TorchScript needed to read them. `rave import-clip` writes them.
// Loading is strict: missing, unexpected or mis-shaped keys are an IoError listing every offending key.
#pragma once

#include <optional>
#include <string>

#include "models/clip/clip_model.h"

namespace rave::models {

struct ClipLoadOptions {
  // Text-transformer heads when the file does not say (archives): CLIP's width / 64 unless set.
  std::optional<int64_t> text_heads;
  Precision precision = Precision::kFloat32;
  bool verify_checksum = true;
};

// The float32 tensors of a CLIP file and, for HDF5 files that carry one, its configuration.
struct ClipState {
  StateDict tensors;
  std::optional<ClipConfig> config;
};

// Reads an OpenAI TorchScript archive, a torch.save'd state dict or one of our HDF5 state files (told apart by
// their signature and, for zips, by TorchScript's constants.pkl).
ClipState read_clip_state(const std::string& path, bool verify_checksum = true);

// The stored configuration, or the one inferred from the tensors (options.text_heads applied), then a model
// with those tensors (strict, see load_state). `source` names the file in errors.
ClipModel build_clip(const ClipState& state, const std::string& source, const ClipLoadOptions& options = {});

// Copies `state` into `model`; every key of the model must be present with its shape and no other key may be.
void load_state(ClipModelImpl& model, const StateDict& state, const std::string& source);

// read_clip_state + build_clip: a frozen float32 model on the CPU in eval mode, precision from the options.
ClipModel load_clip(const std::string& path, const ClipLoadOptions& options = {});

// Writes the model's state dict and configuration as an HDF5 state file (atomically: PATH.tmp, then renamed).
// `source` is recorded in the `source` attribute.
void write_clip_state(const std::string& path, ClipModelImpl& model, const std::string& source);

}  // namespace rave::models
