#include "guidance/resized_images.h"

#include "io/resize.h"

namespace rave::guidance {

ResizedImages::ResizedImages(io::ImageFolder& folder, int64_t size) : folder_(folder), size_(size) {}

std::optional<torch::Tensor> ResizedImages::get(std::size_t i) {
  const auto found = cache_.find(i);
  if (found != cache_.end()) return found->second;
  std::optional<torch::Tensor> image = folder_.read_u8(i);
  if (image) image = io::resize_pil(*image, size_, size_, io::PilFilter::lanczos);
  return cache_.emplace(i, image).first->second;
}

}  // namespace rave::guidance
