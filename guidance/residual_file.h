// The residual-vector file `rave residual` writes and `rave train --residual`, `rave analyze` and
// `rave correct` read (HDF5): datasets residual [D], v_pos [D], v_neg [D] (float32), tau (float64), n_pos,
// n_neg (int64), backlit_files / welllit_files (the images that went into the means); root attributes
// format = "rave-residual", format_version, encoder, files_hash (of both lists, to notice a changed dataset),
// created, rave_version, and `note` (how the vector was made, e.g. a bias correction). A vector derived from
// another one by `rave correct` also has the group /provenance: attributes source, operation, formula,
// text_encoder; datasets tokens, phrases (strings) and weights (float64).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "guidance/residual.h"

namespace rave::io {
class ImageFolder;
}

namespace rave::guidance {

class GuidanceEncoder;

// How a vector was derived from another residual file (absent for vectors computed from images).
struct ResidualProvenance {
  std::string source;        // the residual file it was derived from
  std::string operation;     // "shift-tokens", "remove-phrases" or "add-phrase"
  std::string formula;       // what was computed, in the notation of ALGORITHMS §4.6.3
  std::string text_encoder;  // the CLIP file whose text tower embedded the tokens and phrases
  std::vector<std::string> tokens;   // vocabulary texts the operation used
  std::vector<std::string> phrases;  // phrases the operation used
  std::vector<double> weights;       // the token scores (shift-tokens) or the phrase weight (add-phrase)
};

struct ResidualFile {
  ResidualVector vector;
  std::string encoder;
  std::vector<std::string> backlit_files;
  std::vector<std::string> welllit_files;
  std::string note;
  std::optional<ResidualProvenance> provenance;
};

inline constexpr int kResidualFormatVersion = 1;

// Written to PATH.tmp and renamed: an interrupted write never leaves a half-written file at PATH.
void write_residual_file(const std::string& path, const ResidualFile& file);
// IoError naming the file for anything that is not a residual file of a known version.
ResidualFile read_residual_file(const std::string& path);
// read_residual_file, then a UsageError unless the vector has the dimension `encoder` embeds in: what
// `rave train --residual FILE` (and its --dry-run) checks before training with it.
ResidualFile read_residual_file_for(const std::string& path, const GuidanceEncoder& encoder);

// The file names (without their folder) of the images in `folder`, in its order: what backlit_files and
// welllit_files list.
std::vector<std::string> file_names(const io::ImageFolder& folder);

// A 64-bit hash of file names (hex), order-sensitive; identifies the dataset a vector was computed from.
std::string file_list_hash(const std::vector<std::string>& backlit, const std::vector<std::string>& welllit);

}  // namespace rave::guidance
