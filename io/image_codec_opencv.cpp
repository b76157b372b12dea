// io::opencv_codec: OpenCV's imgcodecs, the default codec (RAVE_OPENCV_IMGCODECS=ON).
#include <opencv2/imgcodecs.hpp>

#include "io/image_codec.h"

namespace rave::io::opencv_codec {

bool reads(ImageFormat format) { return format != ImageFormat::unknown; }

const char* formats() { return "PNG, JPEG, BMP, TIFF and WebP"; }

DecodedImage decode(const std::vector<std::uint8_t>& bytes, ImageFormat format, ExifOrientation orientation) {
  // JPEGs go through libjpeg directly: OpenCV's decoder lets libjpeg print its warnings about damaged data and
  // returns the image with the undecodable pixels grey, so a file cut mid-scan and closed with an end-of-image
  // marker would be trained on. The libjpeg codec makes the calls OpenCV makes (same pixels, image_codec_test) and
  // turns those warnings into an error; validating the stream before imdecode would decode every JPEG twice.
  if (format == ImageFormat::jpeg) return png_jpeg_codec::decode(bytes, format, orientation);
  // IMREAD_COLOR converts grey, palette, alpha and CMYK to 3 channels and applies the EXIF orientation unless
  // IMREAD_IGNORE_ORIENTATION; IMREAD_ANYDEPTH keeps 16-bit samples instead of truncating them to their high byte.
  const int flags = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH |
                    (orientation == ExifOrientation::ignore ? int(cv::IMREAD_IGNORE_ORIENTATION) : 0);
  try {
    return {cv::imdecode(bytes, flags), {}};
  } catch (const cv::Exception& e) {
    return {cv::Mat(), e.what()};
  }
}

std::vector<std::uint8_t> encode_png(const cv::Mat& image) {
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(".png", image, bytes)) bytes.clear();
  return bytes;
}

std::vector<std::uint8_t> encode_jpeg(const cv::Mat& image, int quality) {
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality})) bytes.clear();
  return bytes;
}

}  // namespace rave::io::opencv_codec
