// The intermediate ("semi") results of CLIP-LIT's refinement (ALGORITHMS §3.6): every backlit training image,
// resized with Lanczos to the guidance images' size (256x256 in the reference), enhanced by the network of a
// round's best model and saved as an 8-bit PNG, so that the margin set can rank input > result > reference. The
// ranks split the files (exact shards) and meet at a barrier, after which every file exists.
#pragma once

#include <filesystem>

#include "dist/communicator.h"
#include "guidance/resized_images.h"
#include "models/enhancer.h"

namespace rave::guidance {

// FOLDER/<stem of the backlit file>.png. Always PNG: the reference kept lower-case ".jpg" names and so
// JPEG-compressed those results, an accident of its renaming rule.
std::filesystem::path intermediate_result_path(const std::filesystem::path& folder,
                                               const std::filesystem::path& backlit_file);

// Writes the results of `enhancer` for this rank's share of `backlit` into `folder` (created), then waits for
// the other ranks. E = clamp(x / (L + 1e-9), 0, 1) as in training (§6 #14). Unreadable inputs are skipped.
void write_intermediate_results(models::Enhancer& enhancer, ResizedImages& backlit, const std::filesystem::path& folder,
                                dist::Communicator& communicator, const torch::Device& device);

}  // namespace rave::guidance
