// The EXIF orientation tag as OpenCV 4.6's imdecode reads and applies it (modules/imgcodecs/src/exif.cpp and
// loadsave.cpp), for io::png_jpeg_codec: with the same rules on odd or damaged EXIF blocks, both codecs turn a photo
// the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <opencv2/core.hpp>

namespace rave::io {

// The orientation (1-8 rotate or flip, any other value leaves the image) of an EXIF block that starts at its TIFF
// header ("II*\0" or "MM\0*"); 1 when it has none. Like OpenCV's ExifReader: IFD0's entries in order, the first
// orientation entry counts, and reading stops at the first entry whose value lies outside the block, keeping what
// came before it.
int exif_orientation(const std::uint8_t* tiff, std::size_t size);

// Rotates and flips `image` upright for an orientation value (loadsave.cpp's ExifTransform).
void apply_exif_orientation(cv::Mat& image, int orientation);

}  // namespace rave::io
