#include "analysis/metrics/pairing.h"

#include <map>

#include "core/error.h"
#include "io/dataset.h"

namespace rave::analysis {
namespace {

namespace fs = std::filesystem;

std::map<std::string, fs::path> by_stem(const std::vector<fs::path>& files, const char* side) {
  std::map<std::string, fs::path> stems;
  for (const fs::path& file : files) {
    const auto [it, inserted] = stems.emplace(file.stem().string(), file);
    if (!inserted) {
      throw UsageError(std::string("two ") + side + " files have the stem '" + it->first + "': " + it->second.string() +
                           " and " + file.string(),
                       "keep one file per image name in each folder");
    }
  }
  return stems;
}

}  // namespace

Pairing pair_by_stem(const std::vector<fs::path>& pred, const std::vector<fs::path>& gt) {
  const std::map<std::string, fs::path> preds = by_stem(pred, "enhanced"), gts = by_stem(gt, "ground-truth");
  Pairing pairing;
  for (const auto& [stem, path] : preds) {
    const auto match = gts.find(stem);
    if (match == gts.end()) {
      pairing.unmatched_pred.push_back(path);
    } else {
      pairing.pairs.push_back({stem, path, match->second});
    }
  }
  for (const auto& [stem, path] : gts) {
    if (!preds.count(stem)) pairing.unmatched_gt.push_back(path);
  }
  return pairing;
}

Pairing pair_folders(const fs::path& pred_dir, const fs::path& gt_dir) {
  const std::vector<fs::path> pred = io::list_images(pred_dir);  // the enhanced folder is checked first
  Pairing pairing = pair_by_stem(pred, io::list_images(gt_dir));
  if (pairing.pairs.empty()) {
    throw IoError("no image in " + pred_dir.string() + " has a ground truth of the same name in " + gt_dir.string(),
                  "files are paired by name without extension (12.png <-> 12.jpg)");
  }
  return pairing;
}

}  // namespace rave::analysis
