// Image files <-> tensors. Decoding goes through io::codec (image_codec.h: OpenCV's imgcodecs for PNG, JPEG, BMP,
// TIFF and WebP, or PNG and JPEG only in a build configured with -DRAVE_OPENCV_IMGCODECS=OFF) and always
// yields RGB: greyscale is replicated, alpha is dropped without compositing (like PIL's convert("RGB")), CMYK
// JPEGs are converted, and the EXIF orientation is applied or ignored as the caller says (ExifOrientation).
// Two layouts: float32 CHW in [0,1], what the networks take, and uint8 HWC, what the PIL-compatible resizers of
// resize.h take (the reference resizes 8-bit PIL images).
//
// Every failure is an IoError naming the file and the problem: missing, empty, not an image, truncated (checked
// on the container, see image_format.h), or rejected by the decoder.
#pragma once

#include <torch/types.h>

#include <string>

namespace rave::io {

// What decoding does with a photo's EXIF orientation tag (phones store portrait photos sideways with a tag).
enum class ExifOrientation {
  ignore,  // the pixels as stored, as PIL's Image.open gives them to the reference's loaders
  apply,   // rotated and flipped upright, as a viewer displays the photo
};

// Training and the residual vector read their folders as the reference does: the tag ignored.
inline constexpr ExifOrientation kTrainingExifOrientation = ExifOrientation::ignore;
// rave enhance reads photos as they are displayed: a user's phone photos come out upright.
inline constexpr ExifOrientation kEnhanceExifOrientation = ExifOrientation::apply;

// "ignore" or "apply"; anything else is a UsageError.
ExifOrientation exif_orientation_from_name(const std::string& name);
const char* exif_orientation_name(ExifOrientation orientation);

// float32 [3,H,W] in [0,1]: 8-bit samples / 255, 16-bit samples / 65535 (float32 division, as torchvision's ToTensor).
// Applying the EXIF orientation is the default of the functions that read one file: that is the image a user sees.
torch::Tensor read_image(const std::string& path, ExifOrientation orientation = ExifOrientation::apply);

// uint8 [H,W,3] RGB. 16-bit samples are rounded to the nearest 8-bit level (v / 257).
torch::Tensor read_image_u8(const std::string& path, ExifOrientation orientation = ExifOrientation::apply);

// uint8 [H,W,C] -> float32 [C,H,W], v / 255.
torch::Tensor to_float_chw(const torch::Tensor& hwc_u8);

// float [C,H,W] -> uint8 [H,W,C] on the CPU: floor(v·255 + 0.5) clamped to [0,255], i.e. round half up, the
// rounding of torchvision's save_image (so PNGs we write equal the reference's); NaN becomes 0.
torch::Tensor to_u8_hwc(const torch::Tensor& chw);

// Writes a float [3,H,W] (colour) or [1,H,W] (grey, e.g. a light map) image in [0,1] as an 8-bit file, rounded
// with to_u8_hwc. The format follows the extension: .png (lossless) or .jpg/.jpeg (case-insensitive). JPEG quality
// 75 is PIL's default, what the reference's save_image wrote for ".jpg" names.
void write_image(const std::string& path, const torch::Tensor& chw, int jpeg_quality = 75);

}  // namespace rave::io
