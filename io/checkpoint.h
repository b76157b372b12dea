// rave's checkpoint file (ARCHITECTURE §5): one HDF5 file holding the enhancer's parameters, optimiser and
// guidance state and what resume needs, as named float/int datasets with Fletcher-32 checksums, plus root
// attributes saying what it is (format, format_version, method, step, round, stage, world size, seed, the
// effective configuration, when and by which rave it was written). Writes are atomic: the file is written
// as <path>.tmp, flushed to disk and renamed, so a crash at any point leaves the previous checkpoint intact.
// The io layer stores named tensors only; models/ converts modules to and from them.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/h5_seal.h"

namespace rave::io {

using TensorMap = std::map<std::string, torch::Tensor>;

// The shape of a 0-d dataset (tau, a counter), for the shape checks below.
inline const std::vector<int64_t> kScalarShape{};

// The tensor `key` of `tensors`, the datasets below `group` ("guidance"; "" for the whole file) of the file `file`;
// IoError naming the file and the dataset ('/group/key') when it is absent or, with `shape`, has another shape.
const torch::Tensor& dataset_at(const TensorMap& tensors, const std::string& key, const std::string& file,
                                const std::string& group = "",
                                const std::optional<std::vector<int64_t>>& shape = std::nullopt);

inline constexpr const char* kCheckpointFormat = "rave-checkpoint";
// Readers accept this version and older ones; a newer file is refused with a hint to upgrade.
inline constexpr int64_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  // Root attributes.
  std::string method;  // "rave", "clip-lit", "clip-lit-latent", or "imported"
  int64_t step = 0;
  int64_t round = 0;
  std::string stage;
  int64_t world_size = 1;
  int64_t seed = 0;
  std::string config;        // effective configuration (INI text)
  std::string source;        // where the weights came from when imported (file name and SHA-256)
  std::string created;       // ISO 8601 UTC; write() fills it in when empty
  std::string rave_version;  // write() fills it in when empty
  // Padding of the enhancer's cond* convolutions the weights were trained with, kept as a record: "zeros" for
  // rave train (and the reference's training). Enhancement pads with reflect unless told otherwise, as both
  // papers evaluate (models::kEvaluationPadding). Attribute `padding_mode` of /enhancer.
  std::string enhancer_padding = "zeros";

  // Datasets by path without the leading '/': "enhancer/cond1.weight", "optimizer/enhancer/exp_avg/cond1.weight",
  // "guidance/residual", "sampler/epoch". Every checkpoint has at least one enhancer/ dataset.
  TensorMap tensors;

  // The file this checkpoint was read from (empty when built in memory); errors name it.
  std::string path;

  // The tensors below `group` ("enhancer", "optimizer/enhancer/exp_avg"), keyed by their names inside it.
  TensorMap group(const std::string& group) const;
  // Replaces the tensors below `group` by `tensors`.
  void set_group(const std::string& group, const TensorMap& tensors);
  // The dataset at `name`; IoError naming the file and the dataset when it is absent or, with `shape`,
  // has another shape (kScalarShape: a number, read with .item()).
  const torch::Tensor& at(const std::string& name,
                          const std::optional<std::vector<int64_t>>& shape = std::nullopt) const;

  // Atomic write (see above); the parent folder must exist.
  void write(const std::string& path) const;
  // Reads and validates: an HDF5 file of format rave-checkpoint, of this or an older format version, with
  // every root attribute and an enhancer group; every dataset is read, so every Fletcher-32 checksum is
  // verified. Any failure is an IoError naming the file and the dataset or attribute. A file without rave's
  // header is refused unless `unsealed` accepts it (rave inspect: it says what it could not verify).
  static Checkpoint read(const std::string& path, h5::Unsealed unsealed = h5::Unsealed::refuse);
};

// The checkpoints of one run in one folder: step_<step, 8 digits>.h5 for the newest `keep_last` saves, plus
// named snapshots (best.h5, best_round<r>.h5, ...) that retention never removes.
class CheckpointFolder {
 public:
  CheckpointFolder(std::filesystem::path folder, int keep_last);

  // Writes step_<step>.h5 atomically, then removes the step files beyond the newest `keep_last`. Returns the path.
  std::filesystem::path save(const Checkpoint& checkpoint);
  // Makes `name` a snapshot of the saved file `saved` (a hard link where the file system allows, a copy
  // otherwise), replacing an older snapshot of that name atomically.
  std::filesystem::path snapshot(const std::filesystem::path& saved, const std::string& name);
  // The step files, oldest first.
  std::vector<std::filesystem::path> steps() const;
  // The newest step file (what `--resume auto` continues from); empty when there is none.
  std::optional<std::filesystem::path> latest() const;

  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path folder_;
  int keep_last_;
};

}  // namespace rave::io
