// Image files in memory <-> OpenCV matrices, from one of two codecs chosen at configure time (RAVE_OPENCV_IMGCODECS):
//   opencv_codec    OpenCV's imgcodecs: PNG, JPEG, BMP, TIFF, WebP. The default. Debian's library pulls GDAL, GDCM
//                   and OpenEXR (about 200 MiB), too much for a machine that gets rave's libraries carried to it.
//                   It decodes JPEGs through png_jpeg_codec, which rejects damaged data OpenCV would fill with grey.
//   png_jpeg_codec  libpng and libjpeg directly: PNG and JPEG only, decoded the way OpenCV 4.6 decodes them (the
//                   same library calls, the same EXIF orientation rules), so both codecs give the same pixels.
//                   Compiled into every build.
// io::codec names the one this build uses; a unit test compares png_jpeg_codec with OpenCV's own decoding.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "io/image.h"
#include "io/image_format.h"

namespace rave::io {

// A decoded image: BGR, 3 channels, 8 or 16 bits per sample as stored. Empty when the decoder rejected the bytes;
// then `error` holds the decoder's reason where it gave one.
struct DecodedImage {
  cv::Mat bgr;
  std::string error;
};

// Each codec: whether it reads `format`, and what it reads, for messages ("PNG and JPEG"); decoding as
// cv::imdecode with IMREAD_COLOR | IMREAD_ANYDEPTH (grey, palette and CMYK become BGR, alpha is dropped, 16-bit
// samples stay 16-bit) and the EXIF orientation applied or not; 8-bit BGR or grey images encoded as OpenCV's
// imencode does (no bytes when the encoder fails).
namespace opencv_codec {
bool reads(ImageFormat format);
const char* formats();
DecodedImage decode(const std::vector<std::uint8_t>& bytes, ImageFormat format, ExifOrientation orientation);
std::vector<std::uint8_t> encode_png(const cv::Mat& image);
std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality);
}  // namespace opencv_codec

namespace png_jpeg_codec {
bool reads(ImageFormat format);
const char* formats();
DecodedImage decode(const std::vector<std::uint8_t>& bytes, ImageFormat format, ExifOrientation orientation);
std::vector<std::uint8_t> encode_png(const cv::Mat& image);
std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality);
}  // namespace png_jpeg_codec

#ifndef RAVE_OPENCV_IMGCODECS
#error "RAVE_OPENCV_IMGCODECS comes with rave_io's CMake target (io/CMakeLists.txt)"
#elif RAVE_OPENCV_IMGCODECS
namespace codec = opencv_codec;
#else
namespace codec = png_jpeg_codec;
#endif

}  // namespace rave::io
