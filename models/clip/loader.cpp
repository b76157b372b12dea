// CLIP weights from TorchScript archives and HDF5 state files into ClipModel, and back out to HDF5.
#include "models/clip/loader.h"

#include <spdlog/spdlog.h>
#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "io/h5.h"
#include "io/h5_seal.h"
#include "io/torch_zip.h"
#include "io/zip.h"
#include "models/clip/checksum.h"

namespace rave::models {
namespace {

constexpr const char* kFormat = "rave-clip-state";
constexpr int64_t kFormatVersion = 1;

bool ignored_key(const std::string& key) {
  static const std::set<std::string> archive_integers = {"input_resolution", "context_length", "vocab_size"};
  const std::string suffix = "num_batches_tracked";
  return archive_integers.count(key) ||
         (key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0);
}

enum class FileKind { kZip, kHdf5, kOther };

FileKind file_kind(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open the CLIP model " + path, kClipFileHint);
  char magic[16] = {};
  in.read(magic, sizeof(magic));
  if (in.gcount() >= 4 && std::equal(magic, magic + 4, "PK\x03\x04")) return FileKind::kZip;
  if (io::h5::starts_like_hdf5(magic, size_t(in.gcount()))) return FileKind::kHdf5;
  return FileKind::kOther;
}

void add_tensor(StateDict& state, const std::string& key, const torch::Tensor& tensor) {
  if (ignored_key(key)) return;
  state.insert(key, tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous());
}

ClipState read_torchscript(const std::string& path) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const std::exception& e) {
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    throw IoError("cannot read the TorchScript archive " + path + ": " + message,
                  "the file is truncated or damaged; download it again");
  }
  ClipState state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) add_tensor(state.tensors, item.name, item.value);
  for (const auto& item : module.named_buffers(/*recurse=*/true)) add_tensor(state.tensors, item.name, item.value);
  return state;
}

// Whether the zip at `path` is a TorchScript archive (OpenAI's releases: <prefix>/constants.pkl beside the code)
// rather than a state dict written by torch.save, which torch::jit::load refuses as if the file were damaged. rave's
// own zip reader looks first: it is fuzzed, and a damaged archive is reported before LibTorch parses it.
bool is_torchscript(const std::string& path) {
  const io::ZipArchive zip(path);
  const std::string entry = "/constants.pkl";
  return std::any_of(zip.names().begin(), zip.names().end(), [&](const std::string& name) {
    return name.size() > entry.size() && name.compare(name.size() - entry.size(), entry.size(), entry) == 0;
  });
}

ClipState read_state_dict(const std::string& path) {
  ClipState state;
  for (const auto& [key, tensor] : io::strip_data_parallel_prefix(io::read_torch_state_dict(path), path)) {
    add_tensor(state.tensors, key, tensor);
  }
  return state;
}

ClipState read_hdf5(const std::string& path) {
  const io::h5::File file = io::h5::File::open(path);
  ClipState state;
  for (const std::string& name : file.datasets()) {
    if (!ignored_key(name)) add_tensor(state.tensors, name, file.read(name));
  }
  if (file.has_attribute("/", "config_json")) {
    state.config = ClipConfig::from_json(file.attribute_string("/", "config_json"), path);
  }
  return state;
}

std::string shape_string(torch::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "name (N): a, b, c, ... and K more"
std::string key_list(const std::string& name, const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 12;
  std::string s = name + " (" + std::to_string(keys.size()) + "): ";
  for (std::size_t i = 0; i < keys.size() && i < kShown; ++i) s += (i ? ", " : "") + keys[i];
  if (keys.size() > kShown) s += ", ... and " + std::to_string(keys.size() - kShown) + " more";
  return s;
}

}  // namespace

ClipState read_clip_state(const std::string& path, bool verify_checksum) {
  switch (file_kind(path)) {
    case FileKind::kZip:
      if (verify_checksum) check_known_sha256(path);
      return is_torchscript(path) ? read_torchscript(path) : read_state_dict(path);
    case FileKind::kHdf5:
      return read_hdf5(path);
    case FileKind::kOther:
      break;
  }
  throw IoError(path + " is neither a TorchScript archive (zip) nor an HDF5 file", kClipFileHint);
}

void load_state(ClipModelImpl& model, const StateDict& state, const std::string& source) {
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& item : model.named_parameters()) targets.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers()) {
    if (!ignored_key(item.key())) targets.emplace_back(item.key(), item.value());
  }
  std::vector<std::string> missing, unexpected, mis_shaped;
  std::set<std::string> expected;
  for (const auto& [key, target] : targets) {
    expected.insert(key);
    const torch::Tensor* tensor = state.find(key);
    if (!tensor) {
      missing.push_back(key);
    } else if (tensor->sizes() != target.sizes()) {
      mis_shaped.push_back(key + " " + shape_string(tensor->sizes()) + " (model " + shape_string(target.sizes()) + ")");
    }
  }
  for (const auto& item : state) {
    if (!expected.count(item.key())) unexpected.push_back(item.key());
  }
  if (!missing.empty() || !unexpected.empty() || !mis_shaped.empty()) {
    std::string what = source + " does not fit the CLIP model " + model.config().to_json() + ":";
    if (!missing.empty()) what += " " + key_list("missing keys", missing) + ";";
    if (!unexpected.empty()) what += " " + key_list("unexpected keys", unexpected) + ";";
    if (!mis_shaped.empty()) what += " " + key_list("wrong shapes", mis_shaped) + ";";
    what.pop_back();
    throw IoError(what, "the file is not a complete OpenAI CLIP state dict; use the original .pt or re-import it");
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, target] : targets) target.copy_(state[key]);
}

ClipModel build_clip(const ClipState& state, const std::string& source, const ClipLoadOptions& options) {
  ClipConfig config = state.config ? *state.config : ClipConfig::infer(state.tensors, source, options.text_heads);
  if (state.config && options.text_heads && *options.text_heads != config.transformer_heads) {
    throw UsageError(source + " stores " + std::to_string(config.transformer_heads) + " text heads; " +
                         std::to_string(*options.text_heads) + " were asked for",
                     "leave the text heads unset for HDF5 state files");
  }
  ClipModel model(config);
  load_state(*model, state.tensors, source);
  model->set_precision(options.precision);
  return model;
}

ClipModel load_clip(const std::string& path, const ClipLoadOptions& options) {
  ClipModel model = build_clip(read_clip_state(path, options.verify_checksum), path, options);
  spdlog::debug("loaded CLIP {} from {}", model->config().to_json(), path);
  return model;
}

void write_clip_state(const std::string& path, ClipModelImpl& model, const std::string& source) {
  const std::string temporary = path + ".tmp";
  {
    io::h5::File file = io::h5::File::create(temporary);
    file.set_attribute("/", "format", kFormat);
    file.set_attribute("/", "format_version", kFormatVersion);
    file.set_attribute("/", "config_json", model.config().to_json());
    file.set_attribute("/", "source", source);
    for (const auto& item : model.named_parameters()) file.write(item.key(), item.value());
    for (const auto& item : model.named_buffers()) {
      if (!ignored_key(item.key())) file.write(item.key(), item.value());
    }
    file.close();
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    throw IoError("cannot move " + temporary + " to " + path + ": " + error.message(),
                  "check the permissions of the output folder");
  }
}

}  // namespace rave::models
