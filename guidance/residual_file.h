// The residual-vector file `rave residual` writes and `rave train --residual`, `rave analyze` and
// `rave correct` read (HDF5): datasets residual [D], v_pos [D], v_neg [D] (float32), tau (float64), n_pos,
// n_neg (int64), backlit_files / welllit_files (the images that went into the means); root attributes
// format = "rave-residual", format_version, encoder, files_hash (of both lists, to notice a changed dataset),
// created, rave_version, and `note` (how the vector was made, e.g. a bias correction).
#pragma once

#include <string>
#include <vector>

#include "guidance/residual.h"

namespace rave::guidance {

struct ResidualFile {
  ResidualVector vector;
  std::string encoder;
  std::vector<std::string> backlit_files;
  std::vector<std::string> welllit_files;
  std::string note;
};

inline constexpr int kResidualFormatVersion = 1;

// Written to PATH.tmp and renamed: an interrupted write never leaves a half-written file at PATH.
void write_residual_file(const std::string& path, const ResidualFile& file);
// IoError naming the file for anything that is not a residual file of a known version.
ResidualFile read_residual_file(const std::string& path);

// A 64-bit hash of file names (hex), order-sensitive; identifies the dataset a vector was computed from.
std::string file_list_hash(const std::vector<std::string>& backlit, const std::vector<std::string>& welllit);

}  // namespace rave::guidance
