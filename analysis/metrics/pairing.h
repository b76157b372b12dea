// Pairs enhanced images with their ground truth by exact file stem ("12.png" <-> "12.jpg"). The reference's
// metrics script matches by substring (so "1" could pair with "10") and strips a "(1)" suffix; neither is done
// here. Files without a partner are returned, so that callers list them instead of dropping them silently.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rave::analysis {

struct ImagePair {
  std::string stem;
  std::filesystem::path pred;
  std::filesystem::path gt;
};

// Every list is in stem order (byte-wise).
struct Pairing {
  std::vector<ImagePair> pairs;
  std::vector<std::filesystem::path> unmatched_pred;
  std::vector<std::filesystem::path> unmatched_gt;
};

// Pairs two file lists by stem (file name without its last extension, case-sensitive). Two files of one list
// with the same stem ("a.png", "a.jpg") are ambiguous: UsageError naming both.
Pairing pair_by_stem(const std::vector<std::filesystem::path>& pred, const std::vector<std::filesystem::path>& gt);

// The images of two folders (io::list_images) paired by stem. IoError when the folders share no stem.
Pairing pair_folders(const std::filesystem::path& pred_dir, const std::filesystem::path& gt_dir);

}  // namespace rave::analysis
