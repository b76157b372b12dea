#include "io/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <regex>

#include "core/error.h"
#include "io/h5.h"
#include "rave/version.h"

namespace rave::io {
namespace {

namespace fs = std::filesystem;

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

// fsync of a file or a folder: data first, then the rename that publishes it, must reach the disk in that
// order for the "old or new, never half" guarantee to hold across a power loss.
void sync_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw IoError(path + ": cannot sync to disk: " + reason);
  }
  ::close(fd);
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

const std::regex kStepFile(R"(step_(\d+)\.h5)");

}  // namespace

TensorMap Checkpoint::group(const std::string& group) const {
  const std::string prefix = group + "/";
  TensorMap out;
  for (auto it = tensors.lower_bound(prefix); it != tensors.end() && starts_with(it->first, prefix); ++it) {
    out.emplace(it->first.substr(prefix.size()), it->second);
  }
  return out;
}

void Checkpoint::set_group(const std::string& group, const TensorMap& members) {
  const std::string prefix = group + "/";
  for (auto it = tensors.lower_bound(prefix); it != tensors.end() && starts_with(it->first, prefix);) {
    it = tensors.erase(it);
  }
  for (const auto& [name, tensor] : members) tensors[prefix + name] = tensor;
}

const torch::Tensor& dataset_at(const TensorMap& tensors, const std::string& key, const std::string& file,
                                const std::string& group, const std::optional<std::vector<int64_t>>& shape) {
  const std::string name = "/" + (group.empty() ? key : group + "/" + key);
  const auto found = tensors.find(key);
  if (found == tensors.end()) {
    throw IoError(file + ": missing dataset '" + name + "'", "the checkpoint is incomplete or of another kind");
  }
  // A number read with .item() from a tensor of another shape would end the program with LibTorch's message
  // instead of one naming the dataset.
  const auto text = [](torch::IntArrayRef sizes) { return sizes.empty() ? std::string("a scalar") : c10::str(sizes); };
  if (shape && found->second.sizes() != torch::IntArrayRef(*shape)) {
    throw IoError(file + ": dataset '" + name + "' has shape " + text(found->second.sizes()) + ", expected " +
                      text(*shape),
                  "the checkpoint is damaged or belongs to a different model configuration");
  }
  return found->second;
}

const torch::Tensor& Checkpoint::at(const std::string& name, const std::optional<std::vector<int64_t>>& shape) const {
  return dataset_at(tensors, name, path.empty() ? "checkpoint" : path, "", shape);
}

void Checkpoint::write(const std::string& target) const {
  if (group("enhancer").empty()) throw IoError(target + ": refusing to write a checkpoint without enhancer tensors");
  const std::string temporary = target + ".tmp";
  try {
    h5::File file = h5::File::create(temporary);
    for (const auto& [name, tensor] : tensors) file.write(name, tensor);
    file.set_attribute("/", "format", kCheckpointFormat);
    file.set_attribute("/", "format_version", kCheckpointFormatVersion);
    file.set_attribute("/", "method", method);
    file.set_attribute("/", "step", step);
    file.set_attribute("/", "round", round);
    file.set_attribute("/", "stage", stage);
    file.set_attribute("/", "world_size", world_size);
    file.set_attribute("/", "seed", seed);
    file.set_attribute("/", "config", config);
    file.set_attribute("/", "source", source);
    file.set_attribute("/", "created", created.empty() ? utc_now() : created);
    file.set_attribute("/", "rave_version", rave_version.empty() ? std::string(kVersion) : rave_version);
    file.set_attribute("enhancer", "padding_mode", enhancer_padding);
    file.close();
    sync_to_disk(temporary);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  if (std::rename(temporary.c_str(), target.c_str()) != 0) {
    throw IoError(target + ": cannot rename " + temporary + " onto it: " + std::strerror(errno));
  }
  const fs::path parent = fs::absolute(target).parent_path();
  sync_to_disk(parent.string());
}

Checkpoint Checkpoint::read(const std::string& path, h5::Unsealed unsealed) {
  const h5::File file = h5::File::open(path, unsealed);
  const std::string hint = "rave inspect FILE tells what a file holds";
  if (!file.has_attribute("/", "format")) throw IoError(path + ": not a rave checkpoint (no 'format' attribute)", hint);
  const std::string format = file.attribute_string("/", "format");
  if (format != kCheckpointFormat) {
    throw IoError(path + ": not a rave checkpoint (format '" + format + "', expected '" + kCheckpointFormat + "')",
                  hint);
  }
  const int64_t version = file.attribute_int("/", "format_version");
  if (version > kCheckpointFormatVersion) {
    throw IoError(path + ": checkpoint format_version " + std::to_string(version) + " is newer than this rave reads (" +
                      std::to_string(kCheckpointFormatVersion) + ")",
                  "upgrade rave to read it");
  }
  Checkpoint c;
  c.path = path;
  c.method = file.attribute_string("/", "method");
  c.step = file.attribute_int("/", "step");
  c.round = file.attribute_int("/", "round");
  c.stage = file.attribute_string("/", "stage");
  c.world_size = file.attribute_int("/", "world_size");
  c.seed = file.attribute_int("/", "seed");
  c.config = file.attribute_string("/", "config");
  c.source = file.attribute_string("/", "source");
  c.created = file.attribute_string("/", "created");
  c.rave_version = file.attribute_string("/", "rave_version");
  if (!file.exists("enhancer")) throw IoError(path + ": missing group '/enhancer'", "the checkpoint is incomplete");
  c.enhancer_padding = file.attribute_string("enhancer", "padding_mode");
  for (const std::string& name : file.datasets()) c.tensors[name] = file.read(name);
  if (c.group("enhancer").empty()) throw IoError(path + ": group '/enhancer' holds no datasets");
  return c;
}

CheckpointFolder::CheckpointFolder(fs::path folder, int keep_last) : folder_(std::move(folder)), keep_last_(keep_last) {
  if (keep_last_ < 1) throw UsageError("checkpoints to keep must be at least 1, got " + std::to_string(keep_last_));
  std::error_code error;
  fs::create_directories(folder_, error);
  if (error) throw IoError(folder_.string() + ": cannot create checkpoint folder: " + error.message());
}

fs::path CheckpointFolder::save(const Checkpoint& checkpoint) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld.h5", static_cast<long long>(checkpoint.step));
  const fs::path path = folder_ / name;
  checkpoint.write(path.string());
  const auto all = steps();
  for (size_t i = 0; i + size_t(keep_last_) < all.size(); ++i) {
    std::error_code ignored;  // a file that vanished meanwhile is what pruning wanted anyway
    fs::remove(all[i], ignored);
  }
  return path;
}

fs::path CheckpointFolder::snapshot(const fs::path& saved, const std::string& name) {
  const fs::path target = folder_ / name, temporary = folder_ / (name + ".tmp");
  std::error_code error;
  fs::remove(temporary, error);
  fs::create_hard_link(saved, temporary, error);
  if (error) fs::copy_file(saved, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, target);
  return target;
}

std::vector<fs::path> CheckpointFolder::steps() const {
  std::vector<std::pair<long long, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(folder_)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, match, kStepFile)) found.emplace_back(std::stoll(match[1]), entry.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& [step, path] : found) paths.push_back(std::move(path));
  return paths;
}

std::optional<fs::path> CheckpointFolder::latest() const {
  const auto all = steps();
  if (all.empty()) return std::nullopt;
  return all.back();
}

}  // namespace rave::io
