// Folders of images: the listing every loader starts from (ALGORITHMS §3.1), and reading the listed files so
// that one unreadable file in a folder of hundreds is reported and skipped instead of ending a long run.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "io/image.h"

namespace rave::io {

// .png .jpg .jpeg .bmp .tif .tiff .webp, in any letter case.
bool has_image_extension(const std::filesystem::path& path);

// The files of `folder` (not its subfolders; symbolic links followed) with an image extension, hidden files
// (".name") skipped, sorted by name so that every rank sees the same order. IoError naming the folder when it
// is missing, is not a folder, or holds no image file.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& folder);

// The images of one folder, decoded with the EXIF orientation ignored or applied as the owner says (training
// and the residual pass: kTrainingExifOrientation). A file that cannot be decoded is logged once (with the
// running count of such files) and yields nullopt, so the loader can skip it; IoError only when no file of the
// folder is readable. Safe to share between loader threads.
class ImageFolder {
 public:
  ImageFolder(const std::filesystem::path& folder, ExifOrientation orientation);

  const std::filesystem::path& folder() const { return folder_; }
  ExifOrientation orientation() const { return orientation_; }
  const std::vector<std::filesystem::path>& files() const { return files_; }
  std::size_t size() const { return files_.size(); }

  // uint8 [H,W,3] RGB of file i (read_image_u8), for the PIL-compatible resizers.
  std::optional<torch::Tensor> read_u8(std::size_t i);
  // float32 [3,H,W] in [0,1] of file i (read_image).
  std::optional<torch::Tensor> read(std::size_t i);

  // The distinct files that failed so far, in listing order.
  std::vector<std::filesystem::path> unreadable() const;
  std::size_t unreadable_count() const;

 private:
  template <class Reader>
  std::optional<torch::Tensor> try_read(std::size_t i, Reader reader);

  std::filesystem::path folder_;
  ExifOrientation orientation_;
  std::vector<std::filesystem::path> files_;
  mutable std::mutex mutex_;
  std::set<std::size_t> unreadable_;
};

}  // namespace rave::io
