#include "io/dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "core/error.h"
#include "io/image.h"
#include "io/image_codec.h"

namespace rave::io {
namespace {

const char* const kExtensionList = ".png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp";

}  // namespace

bool has_image_extension(const std::filesystem::path& path) {
  static const std::array<const char*, 7> kExtensions = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

std::vector<std::filesystem::path> list_images(const std::filesystem::path& folder) {
  const std::string hint = "check the folder given on the command line or in the config file";
  if (!std::filesystem::exists(folder)) throw IoError("image folder " + folder.string() + " does not exist", hint);
  if (!std::filesystem::is_directory(folder)) throw IoError(folder.string() + " is not a folder of images", hint);
  std::vector<std::filesystem::path> files;
  try {
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      const std::string name = entry.path().filename().string();
      if (name.front() == '.' || !entry.is_regular_file() || !has_image_extension(name)) continue;
      files.push_back(entry.path());
    }
  } catch (const std::filesystem::filesystem_error& e) {
    throw IoError("cannot list image folder " + folder.string() + ": " + e.code().message(), hint);
  }
  if (files.empty()) {
    throw IoError("image folder " + folder.string() + " holds no image file (" + kExtensionList + ")", hint);
  }
  std::sort(files.begin(), files.end());
  return files;
}

ImageFolder::ImageFolder(const std::filesystem::path& folder, ExifOrientation orientation)
    : folder_(folder), orientation_(orientation), files_(list_images(folder)) {}

std::optional<torch::Tensor> ImageFolder::read_u8(std::size_t i) {
  return try_read(i, [this](const std::string& path) { return read_image_u8(path, orientation_); });
}

std::optional<torch::Tensor> ImageFolder::read(std::size_t i) {
  return try_read(i, [this](const std::string& path) { return read_image(path, orientation_); });
}

template <class Reader>
std::optional<torch::Tensor> ImageFolder::try_read(std::size_t i, Reader reader) {
  try {
    return reader(files_.at(i).string());
  } catch (const IoError& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (unreadable_.insert(i).second) {
      spdlog::warn("skipping unreadable image ({} of {} in {} so far): {}", unreadable_.size(), files_.size(),
                   folder_.string(), e.what());
    }
    if (unreadable_.size() == files_.size()) {
      throw IoError("none of the " + std::to_string(files_.size()) + " images in " + folder_.string() +
                        " could be read (last: " + e.what() + ")",
                    std::string("check that the folder holds ") + codec::formats() + " images");
    }
    return std::nullopt;
  }
}

std::vector<std::filesystem::path> ImageFolder::unreadable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::filesystem::path> paths;
  for (const std::size_t i : unreadable_) paths.push_back(files_[i]);
  return paths;
}

std::size_t ImageFolder::unreadable_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return unreadable_.size();
}

}  // namespace rave::io
