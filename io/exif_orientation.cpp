#include "io/exif_orientation.h"

#include <opencv2/core.hpp>

namespace rave::io {
namespace {

struct OutsideBlock {};

// ExifReader's view of the block: "II" reads little-endian, anything else big-endian, and a read past the end fails.
class ExifBlock {
 public:
  ExifBlock(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size), intel_(size > 0 && data[0] == 'I' && (size == 1 || data[1] == 'I')) {}

  std::size_t size() const { return size_; }

  std::uint32_t u16(std::size_t at) const {
    if (at + 1 >= size_) throw OutsideBlock{};
    return intel_ ? data_[at] | data_[at + 1] << 8 : data_[at] << 8 | data_[at + 1];
  }

  std::uint32_t u32(std::size_t at) const {
    if (at + 3 >= size_) throw OutsideBlock{};
    return intel_ ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  bool intel_;
};

enum Tag : std::uint32_t {
  kOrientation = 0x0112,
  kResolutionUnit = 0x0128,
  kYCbCrPositioning = 0x0213,
  kXResolution = 0x011A,
  kYResolution = 0x011B,
  kWhitePoint = 0x013E,
  kPrimaryChromaticities = 0x013F,
  kYCbCrCoefficients = 0x0211,
  kReferenceBlackWhite = 0x0214,
};

bool is_string_tag(std::uint32_t tag) {
  // ImageDescription, Make, Model, Software, DateTime, Copyright
  return tag == 0x010E || tag == 0x010F || tag == 0x0110 || tag == 0x0131 || tag == 0x0132 || tag == 0x8298;
}

// How many unsigned rationals ExifReader reads at the offset that the entry holds.
int rational_count(std::uint32_t tag) {
  switch (tag) {
    case kXResolution:
    case kYResolution:
      return 1;
    case kWhitePoint:
      return 2;
    case kYCbCrCoefficients:
      return 3;
    case kPrimaryChromaticities:
    case kReferenceBlackWhite:
      return 6;
    default:
      return 0;
  }
}

// Reads what ExifReader::parseExifEntry reads for the 12-byte entry at `at`, so that the same entries fail.
void read_value(const ExifBlock& block, std::size_t at, std::uint32_t tag) {
  if (is_string_tag(tag)) {
    const std::size_t size = block.u32(at + 4);
    const std::size_t data_at = size > 4 ? block.u32(at + 8) : 8;
    if (data_at > block.size() || data_at + size > block.size()) throw OutsideBlock{};
  } else if (tag == kResolutionUnit || tag == kYCbCrPositioning) {
    block.u16(at + 8);
  } else if (const int count = rational_count(tag); count > 0) {
    std::uint32_t rational_at = block.u32(at + 8);  // 32 bits, wrapping as in ExifReader
    for (int i = 0; i < count; ++i, rational_at += 8) {
      block.u32(rational_at);                   // numerator
      block.u32(rational_at + std::size_t(4));  // denominator
    }
  }
}

}  // namespace

int exif_orientation(const std::uint8_t* tiff, std::size_t size) {
  const ExifBlock block(tiff, size);
  int orientation = 1;
  bool found = false;
  try {
    if (block.u16(2) != 0x2A) return 1;
    std::size_t at = block.u32(4);
    const std::size_t entries = block.u16(at);
    at += 2;
    for (std::size_t i = 0; i < entries; ++i, at += 12) {
      const std::uint32_t tag = block.u16(at);
      if (tag == kOrientation) {
        const int value = static_cast<int>(block.u16(at + 8));
        if (!found) orientation = value;  // ExifReader keeps the first entry of a tag
        found = true;
      } else {
        read_value(block, at, tag);
      }
    }
  } catch (const OutsideBlock&) {
    // ExifReader keeps the entries read before the failing one.
  }
  return orientation;
}

void apply_exif_orientation(cv::Mat& image, int orientation) {
  switch (orientation) {
    case 2:  // top-right: mirrored
      cv::flip(image, image, 1);
      break;
    case 3:  // bottom-right: rotated 180°
      cv::flip(image, image, -1);
      break;
    case 4:  // bottom-left: flipped upside down
      cv::flip(image, image, 0);
      break;
    case 5:  // left-top: transposed
      cv::transpose(image, image);
      break;
    case 6:  // right-top: rotate 90° clockwise
      cv::transpose(image, image);
      cv::flip(image, image, 1);
      break;
    case 7:  // right-bottom: transverse
      cv::transpose(image, image);
      cv::flip(image, image, -1);
      break;
    case 8:  // left-bottom: rotate 90° counter-clockwise
      cv::transpose(image, image);
      cv::flip(image, image, 0);
      break;
    default:  // 1 (top-left) and unknown values: as stored
      break;
  }
}

}  // namespace rave::io
