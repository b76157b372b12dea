#include "io/image.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/error.h"
#include "io/file_write.h"
#include "io/image_codec.h"
#include "io/image_format.h"

namespace rave::io {
namespace {

const char* const kRedoHint = "re-export or re-download the file, or remove it from the folder";

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const bool exists = std::filesystem::exists(path);
    throw IoError("cannot read image file " + path + (exists ? ": permission denied or not a file" : ": no such file"),
                  "check the path");
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// RGB, 3 channels, 8 or 16 bits per sample.
cv::Mat decode_rgb(const std::string& path, ExifOrientation orientation) {
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  if (bytes.empty()) throw IoError("image file " + path + " is empty", kRedoHint);
  const ImageFormat format = sniff_format(bytes);
  if (format == ImageFormat::unknown) {
    throw IoError("image file " + path + " is not a PNG, JPEG, BMP, TIFF or WebP image (unrecognised first bytes)",
                  "convert it to PNG or JPEG, or remove it from the folder");
  }
  const std::string file_is = std::string(format_name(format)) + " file " + path + " is ";
  const std::string truncation = find_truncation(bytes, format);
  if (!truncation.empty()) throw IoError(file_is + truncation, kRedoHint);
  if (!codec::reads(format)) {
    throw IoError(file_is + "not readable by this build of rave, which reads " + codec::formats() +
                      " only (configured with -DRAVE_OPENCV_IMGCODECS=OFF)",
                  "convert it to PNG or JPEG, or use a rave built with OpenCV's imgcodecs");
  }
  const DecodedImage decoded = codec::decode(bytes, format, orientation);
  if (!decoded.error.empty()) throw IoError(file_is + "corrupt: " + decoded.error, kRedoHint);
  const cv::Mat& bgr = decoded.bgr;
  if (bgr.empty()) throw IoError(file_is + "corrupt or truncated (the decoder rejected it)", kRedoHint);
  if (bgr.depth() != CV_8U && bgr.depth() != CV_16U) {
    throw IoError("image file " + path + " has " + (bgr.depth() == CV_32F ? "floating-point" : "unsupported") +
                      " samples; only 8- and 16-bit images are read",
                  "convert it to an 8- or 16-bit PNG");
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

torch::Tensor u8_tensor(const cv::Mat& rgb) {
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

ExifOrientation exif_orientation_from_name(const std::string& name) {
  if (name == "ignore") return ExifOrientation::ignore;
  if (name == "apply") return ExifOrientation::apply;
  throw UsageError("unknown EXIF orientation choice '" + name + "'",
                   "use ignore (the pixels as stored, as the reference reads them) or apply (upright, as displayed)");
}

const char* exif_orientation_name(ExifOrientation orientation) {
  return orientation == ExifOrientation::ignore ? "ignore" : "apply";
}

torch::Tensor read_image(const std::string& path, ExifOrientation orientation) {
  const cv::Mat rgb = decode_rgb(path, orientation);
  if (rgb.depth() == CV_8U) return to_float_chw(u8_tensor(rgb));
  // LibTorch has no uint16 type: go through float32, which holds every 16-bit value exactly.
  cv::Mat samples;
  rgb.convertTo(samples, CV_32F);
  const auto hwc = torch::from_blob(samples.data, {rgb.rows, rgb.cols, 3}, torch::kFloat);
  return hwc.permute({2, 0, 1}).div(65535).contiguous();
}

torch::Tensor read_image_u8(const std::string& path, ExifOrientation orientation) {
  cv::Mat rgb = decode_rgb(path, orientation);
  // convertTo rounds to nearest; v/257 never lies exactly halfway between two levels.
  if (rgb.depth() == CV_16U) rgb.convertTo(rgb, CV_8U, 1.0 / 257.0);
  return u8_tensor(rgb);
}

torch::Tensor to_float_chw(const torch::Tensor& hwc_u8) {
  TORCH_CHECK(hwc_u8.dim() == 3 && hwc_u8.scalar_type() == torch::kUInt8, "to_float_chw expects uint8 [H,W,C], got ",
              hwc_u8.scalar_type(), " ", hwc_u8.sizes());
  return hwc_u8.permute({2, 0, 1}).to(torch::kFloat).div(255).contiguous();
}

torch::Tensor to_u8_hwc(const torch::Tensor& chw) {
  TORCH_CHECK(chw.dim() == 3, "to_u8_hwc expects [C,H,W], got ", chw.sizes());
  // The same float32 operations, in the same order, as torchvision's save_image.
  const auto scaled = chw.detach().to(torch::kCPU, torch::kFloat).mul(255).add(0.5).clamp(0, 255).nan_to_num(0);
  return scaled.permute({1, 2, 0}).to(torch::kUInt8).contiguous();
}

void write_image(const std::string& path, const torch::Tensor& chw, int jpeg_quality) {
  const std::string ext = lower_extension(path);
  const bool jpeg = ext == ".jpg" || ext == ".jpeg";
  if (!jpeg && ext != ".png") {
    throw IoError("cannot write image " + path + ": unsupported extension '" + ext + "'",
                  "name the output .png, .jpg or .jpeg");
  }
  if (chw.dim() != 3 || (chw.size(0) != 1 && chw.size(0) != 3)) {
    throw IoError("cannot write image " + path + ": expected a [3,H,W] or [1,H,W] tensor, got " +
                  c10::str(chw.sizes()));
  }
  const torch::Tensor hwc = to_u8_hwc(chw);
  const int channels = static_cast<int>(hwc.size(2));
  const cv::Mat pixels(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC(channels), hwc.data_ptr());
  cv::Mat ordered = pixels;
  if (channels == 3) cv::cvtColor(pixels, ordered, cv::COLOR_RGB2BGR);
  const std::vector<std::uint8_t> encoded = jpeg ? codec::encode_jpeg(ordered, jpeg_quality) : codec::encode_png(ordered);
  if (encoded.empty()) throw IoError("cannot encode image " + path + " as " + ext);
  write_whole_file(path, encoded.data(), encoded.size());
}

}  // namespace rave::io
