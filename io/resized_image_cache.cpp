#include "io/resized_image_cache.h"

#include <spdlog/spdlog.h>

#include "io/resize.h"

namespace rave::io {

ResizedImageCache::ResizedImageCache(ImageFolder& folder, int64_t size, int64_t cap_mib)
    : folder_(folder),
      size_(size),
      cap_bytes_(cap_mib * 1024 * 1024),
      images_(folder.size()),
      unreadable_(folder.size(), false),
      full_(cap_mib == 0) {}  // no cache was asked for: nothing to warn about

std::optional<torch::Tensor> ResizedImageCache::get(int64_t item) {
  const auto i = static_cast<size_t>(item);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (unreadable_.at(i)) return std::nullopt;
    if (images_[i].defined()) return images_[i];
  }
  // Decoding and resizing run outside the lock: they are the work the loader threads share.
  const std::optional<torch::Tensor> decoded = folder_.read_u8(i);
  const std::optional<torch::Tensor> resized =
      decoded ? std::optional(resize_pil(*decoded, size_, size_, PilFilter::lanczos)) : std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  ++decodes_;
  if (!resized) {
    unreadable_[i] = true;
    return std::nullopt;
  }
  const int64_t bytes = resized->numel();
  if (!images_[i].defined() && bytes_ + bytes <= cap_bytes_) {
    images_[i] = *resized;
    bytes_ += bytes;
    ++cached_;
  } else if (!images_[i].defined() && !full_) {
    full_ = true;
    spdlog::warn("loader cache full at {} MiB ({} resized images of {}x{} kept): the others are decoded again at "
                 "every access, which is slower; --loader-cache-mib raises the limit",
                 cap_bytes_ / (1024 * 1024), cached_, size_, size_);
  }
  return resized;
}

ResizedImageCacheStats ResizedImageCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {decodes_, cached_, double(bytes_) / (1024 * 1024)};
}

}  // namespace rave::io
