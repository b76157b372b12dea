// The images of one folder at the guidance datasets' size (ALGORITHMS §3.4-3.6: PIL Lanczos to 256x256,
// aspect ignored), decoded and resized once per rank and kept as uint8: the guidance phases visit every image
// thousands of times with fresh augmentations, and decoding multi-megapixel JPEGs each time would dominate
// them. 380 + 384 images take about 150 MB.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <optional>

#include "io/dataset.h"

namespace rave::guidance {

// The side of every image the guidance phases see, and of the intermediate results.
inline constexpr int64_t kGuidanceImageSize = 256;

class ResizedImages {
 public:
  // `folder` must outlive this object.
  explicit ResizedImages(io::ImageFolder& folder, int64_t size = kGuidanceImageSize);

  io::ImageFolder& folder() { return folder_; }
  std::size_t size() const { return folder_.size(); }
  // uint8 [size, size, 3] of file i; nullopt for an unreadable file (the folder logs it).
  std::optional<torch::Tensor> get(std::size_t i);

 private:
  io::ImageFolder& folder_;
  int64_t size_;
  std::map<std::size_t, std::optional<torch::Tensor>> cache_;
};

}  // namespace rave::guidance
