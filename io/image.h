// Image files <-> tensors. Decoding goes through OpenCV's imgcodecs (PNG, JPEG, BMP, TIFF, WebP) and always
// yields RGB: greyscale is replicated, alpha is dropped without compositing (like PIL's convert("RGB")), CMYK
// JPEGs are converted, and the EXIF orientation is applied (PIL, and so the reference, ignores it; a photo that
// displays upright should train upright). Two layouts: float32 CHW in [0,1], what the networks take, and uint8
// HWC, what the PIL-compatible resizers of resize.h take (the reference resizes 8-bit PIL images).
//
// Every failure is an IoError naming the file and the problem: missing, empty, not an image, truncated (checked
// on the container, see image_format.h), or rejected by the decoder.
#pragma once

#include <torch/types.h>

#include <string>

namespace rave::io {

// float32 [3,H,W] in [0,1]: 8-bit samples / 255, 16-bit samples / 65535 (float32 division, as torchvision's ToTensor).
torch::Tensor read_image(const std::string& path);

// uint8 [H,W,3] RGB. 16-bit samples are rounded to the nearest 8-bit level (v / 257).
torch::Tensor read_image_u8(const std::string& path);

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
