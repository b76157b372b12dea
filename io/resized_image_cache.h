// The enhancer loader's resized images (ALGORITHMS §3.2), decoded and Lanczos-resized once per rank and then kept
// as uint8 S x S x 3: the resize is deterministic and comes before the random augmentation, so serving it from
// memory changes no batch, and decoding a JPEG plus the Lanczos resize is most of an item's cost.
//
// Cost: S * S * 3 bytes per image of this rank's shard (768 KiB at 512, 192 KiB at 256): 485 images on a rank take
// 364 MiB at 512, 91 MiB at 256. Beyond `cap_mib` the items not yet kept are decoded again at every access, as
// without the cache (logged once), so a large dataset cannot exhaust the memory.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "io/dataset.h"

namespace rave::io {

struct ResizedImageCacheStats {
  int64_t decodes = 0;  // files read from disk so far (decoded and resized), unreadable ones included
  int64_t cached = 0;   // images kept
  double cached_mib = 0;
};

class ResizedImageCache {
 public:
  // `folder` must outlive the cache. cap_mib 0: nothing is kept, every access decodes.
  ResizedImageCache(ImageFolder& folder, int64_t size, int64_t cap_mib);

  // uint8 [size, size, 3] of item `item`, shared with the cache: callers must not write to it. nullopt when the
  // file is unreadable; the folder logs and counts it the first time, and it is not read again (a file that
  // failed once is skipped for the rest of the run; a resumed run tries it once more). Thread-safe; two threads
  // asking for the same new item at once may both decode it.
  std::optional<torch::Tensor> get(int64_t item);

  ResizedImageCacheStats stats() const;

 private:
  ImageFolder& folder_;
  int64_t size_;
  int64_t cap_bytes_;
  mutable std::mutex mutex_;
  std::vector<torch::Tensor> images_;  // by dataset index; undefined: not kept
  std::vector<bool> unreadable_;
  int64_t bytes_ = 0;
  int64_t decodes_ = 0;
  int64_t cached_ = 0;
  bool full_;  // the cap was reached (and logged)
};

}  // namespace rave::io
