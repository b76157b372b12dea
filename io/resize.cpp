#include "io/resize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "io/image.h"

namespace rave::io {
namespace {

// Pillow's PRECISION_BITS for 8-bit images: 32 bits minus 8 for the sample minus 2 for overshoot headroom.
constexpr int kPrecisionBits = 32 - 8 - 2;

// The kernels and the arithmetic below follow Pillow's Resample.c operation for operation (same double
// expressions, same truncations), which is what makes the 8-bit results bit-identical.
double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos3(double x) { return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

double keys_cubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// The taps of one 1-D pass: output o reads inputs first[o] .. first[o] + count[o] - 1 with weights
// weights[o * width + t], fixed point with kPrecisionBits fraction bits.
struct Taps {
  std::int64_t width = 0;
  std::vector<std::int64_t> first, count;
  std::vector<std::int32_t> weights;
};

Taps pil_taps(std::int64_t in_size, std::int64_t out_size, PilFilter filter) {
  const auto kernel = filter == PilFilter::lanczos ? lanczos3 : keys_cubic;
  const double kernel_support = filter == PilFilter::lanczos ? 3.0 : 2.0;
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  // Antialiasing: when shrinking, the kernel is stretched by the scale so every input pixel contributes.
  const double filter_scale = std::max(scale, 1.0);
  const double support = kernel_support * filter_scale;
  Taps taps;
  taps.width = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(out_size * taps.width, 0);
  std::vector<double> w(taps.width);
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const double inverse_filter_scale = 1.0 / filter_scale;
    // Casts truncate toward zero like the C (int) casts of the reference.
    const auto lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(center - support + 0.5));
    const auto hi = std::min<std::int64_t>(in_size, static_cast<std::int64_t>(center + support + 0.5));
    const std::int64_t n = hi - lo;
    double total = 0.0;
    for (std::int64_t t = 0; t < n; ++t) {
      w[t] = kernel((static_cast<double>(t + lo) - center + 0.5) * inverse_filter_scale);
      total += w[t];
    }
    for (std::int64_t t = 0; t < n; ++t) {
      if (total != 0.0) w[t] /= total;
      const double fixed = w[t] * (1 << kPrecisionBits);
      taps.weights[o * taps.width + t] = static_cast<std::int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    taps.first[o] = lo;
    taps.count[o] = n;
  }
  return taps;
}

// Rounds the accumulator (which starts at one half) back to 8 bits, clipping the overshoot of negative lobes.
std::uint8_t clip8(std::int32_t acc) { return static_cast<std::uint8_t>(std::clamp(acc >> kPrecisionBits, 0, 255)); }

// [H,W,C] -> [H,out_w,C]
torch::Tensor resample_horizontal(const torch::Tensor& in, const Taps& taps) {
  const std::int64_t h = in.size(0), w = in.size(1), c = in.size(2), out_w = taps.first.size();
  auto out = torch::empty({h, out_w, c}, torch::kUInt8);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < out_w; ++x) {
      const std::int32_t* weight = &taps.weights[x * taps.width];
      const std::uint8_t* row = src + (y * w + taps.first[x]) * c;
      for (std::int64_t ch = 0; ch < c; ++ch) {
        std::int32_t acc = 1 << (kPrecisionBits - 1);
        for (std::int64_t t = 0; t < taps.count[x]; ++t) acc += row[t * c + ch] * weight[t];
        dst[(y * out_w + x) * c + ch] = clip8(acc);
      }
    }
  }
  return out;
}

// [H,W,C] -> [out_h,W,C]
torch::Tensor resample_vertical(const torch::Tensor& in, const Taps& taps) {
  const std::int64_t line = in.size(1) * in.size(2), out_h = taps.first.size();
  auto out = torch::empty({out_h, in.size(1), in.size(2)}, torch::kUInt8);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  for (std::int64_t y = 0; y < out_h; ++y) {
    const std::int32_t* weight = &taps.weights[y * taps.width];
    const std::uint8_t* rows = src + taps.first[y] * line;
    for (std::int64_t i = 0; i < line; ++i) {
      std::int32_t acc = 1 << (kPrecisionBits - 1);
      for (std::int64_t t = 0; t < taps.count[y]; ++t) acc += rows[t * line + i] * weight[t];
      dst[y * line + i] = clip8(acc);
    }
  }
  return out;
}

// Python's round(d / 2) for d >= 0: halves go to the even neighbour.
std::int64_t half_rounded_to_even(std::int64_t d) {
  const std::int64_t q = d / 2;
  return d % 2 == 1 && q % 2 == 1 ? q + 1 : q;
}

}  // namespace

torch::Tensor resize_pil(const torch::Tensor& hwc_u8, std::int64_t out_h, std::int64_t out_w, PilFilter filter) {
  TORCH_CHECK(hwc_u8.dim() == 3 && hwc_u8.scalar_type() == torch::kUInt8, "resize_pil expects uint8 [H,W,C], got ",
              hwc_u8.scalar_type(), " ", hwc_u8.sizes());
  TORCH_CHECK(out_h > 0 && out_w > 0, "resize_pil: output size must be positive, got ", out_h, "x", out_w);
  torch::Tensor image = hwc_u8.to(torch::kCPU).contiguous();
  // Horizontal first, then vertical, each rounded to 8 bits: the order changes the result.
  if (out_w != image.size(1)) image = resample_horizontal(image, pil_taps(image.size(1), out_w, filter));
  if (out_h != image.size(0)) image = resample_vertical(image, pil_taps(image.size(0), out_h, filter));
  return image.is_same(hwc_u8) ? image.clone() : image;
}

torch::Tensor clip_resize_center_crop(const torch::Tensor& hwc_u8, std::int64_t size) {
  TORCH_CHECK(hwc_u8.dim() == 3, "clip_resize_center_crop expects [H,W,C], got ", hwc_u8.sizes());
  const std::int64_t h = hwc_u8.size(0), w = hwc_u8.size(1);
  // torchvision: the shorter side becomes `size`, the longer int(size * long / short) (truncated).
  const std::int64_t longer = size * std::max(h, w) / std::min(h, w);
  const std::int64_t new_h = w <= h ? longer : size, new_w = w <= h ? size : longer;
  const torch::Tensor resized = resize_pil(hwc_u8, new_h, new_w, PilFilter::bicubic);
  const std::int64_t top = half_rounded_to_even(new_h - size), left = half_rounded_to_even(new_w - size);
  return resized.slice(0, top, top + size).slice(1, left, left + size).contiguous();
}

torch::Tensor clip_preprocess(const torch::Tensor& hwc_u8) {
  return clip_normalize(to_float_chw(clip_resize_center_crop(hwc_u8, 224)));
}

torch::Tensor squash_bilinear(const torch::Tensor& images, std::int64_t size) {
  TORCH_CHECK(images.dim() == 3 || images.dim() == 4, "squash_bilinear expects [B,C,H,W] or [C,H,W], got ",
              images.sizes());
  const std::array<std::int64_t, 2> out_size{size, size};
  const torch::Tensor batch = images.dim() == 3 ? images.unsqueeze(0) : images;
  const torch::Tensor out = at::upsample_bilinear2d(batch, out_size, /*align_corners=*/false);
  return images.dim() == 3 ? out.squeeze(0) : out;
}

torch::Tensor clip_normalize(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() >= 3 && images.size(-3) == 3, "clip_normalize expects [...,3,H,W], got ", images.sizes());
  // Given as doubles and rounded to the image type, as torchvision's Normalize converts Python floats.
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  const auto mean = torch::tensor({0.48145466, 0.4578275, 0.40821073}, options).to(images.options()).view({3, 1, 1});
  const auto stdev = torch::tensor({0.26862954, 0.26130258, 0.27577711}, options).to(images.options()).view({3, 1, 1});
  return images.sub(mean).div(stdev);
}

}  // namespace rave::io
