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

// Half-open [begin, end) of rows or columns.
struct Span {
  std::int64_t begin, end;
  std::int64_t size() const { return end - begin; }
};

// Output columns `columns` of the horizontal pass over the input rows `rows`: [H,W,C] -> [rows, columns, C].
// C is a template parameter so that the channels of one pixel are summed together in registers.
template <int C>
torch::Tensor horizontal(const torch::Tensor& in, const Taps& taps, Span rows, Span columns) {
  const std::int64_t line = in.size(1) * C;
  auto out = torch::empty({rows.size(), columns.size(), C}, torch::kUInt8);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  for (std::int64_t y = rows.begin; y < rows.end; ++y) {
    for (std::int64_t x = columns.begin; x < columns.end; ++x) {
      // Locals: a store through the uint8 pointer could alias the taps' vectors and force their reloads.
      const std::uint8_t* pixels = src + y * line + taps.first[x] * C;
      const std::int32_t* weight = taps.weights.data() + x * taps.width;
      const std::int64_t count = taps.count[x];
      std::int32_t acc[C];
      for (int ch = 0; ch < C; ++ch) acc[ch] = 1 << (kPrecisionBits - 1);
      for (std::int64_t t = 0; t < count; ++t) {
        for (int ch = 0; ch < C; ++ch) acc[ch] += pixels[t * C + ch] * weight[t];
      }
      for (int ch = 0; ch < C; ++ch) *dst++ = clip8(acc[ch]);
    }
  }
  return out;
}

torch::Tensor resample_horizontal(const torch::Tensor& in, const Taps& taps, Span rows, Span columns) {
  switch (in.size(2)) {
    case 1: return horizontal<1>(in, taps, rows, columns);
    case 2: return horizontal<2>(in, taps, rows, columns);
    case 3: return horizontal<3>(in, taps, rows, columns);
    default: return horizontal<4>(in, taps, rows, columns);
  }
}

// Output rows `rows` of the vertical pass, `in` holding the input rows from `first_row` on: [out rows, W, C].
// Each output row is a weighted sum of whole input rows, accumulated a row at a time (contiguous, vectorised).
torch::Tensor resample_vertical(const torch::Tensor& in, const Taps& taps, Span rows, std::int64_t first_row) {
  const std::int64_t line = in.size(1) * in.size(2);
  auto out = torch::empty({rows.size(), in.size(1), in.size(2)}, torch::kUInt8);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  std::uint8_t* dst = out.data_ptr<std::uint8_t>();
  std::vector<std::int32_t> acc(line);
  for (std::int64_t y = rows.begin; y < rows.end; ++y) {
    const std::uint8_t* first = src + (taps.first[y] - first_row) * line;
    const std::int32_t* weight = taps.weights.data() + y * taps.width;
    const std::int64_t count = taps.count[y];
    std::int32_t* a = acc.data();
    std::fill(a, a + line, 1 << (kPrecisionBits - 1));
    for (std::int64_t t = 0; t < count; ++t) {
      const std::uint8_t* row = first + t * line;
      const std::int32_t w = weight[t];
      for (std::int64_t i = 0; i < line; ++i) a[i] += row[i] * w;
    }
    for (std::int64_t i = 0; i < line; ++i) *dst++ = clip8(a[i]);
  }
  return out;
}

// resize_pil(...) cut to the output rows `rows` and columns `columns`, computing only those pixels and only from
// the input rows they read. The same arithmetic, so the same bits.
torch::Tensor resize_window(const torch::Tensor& hwc_u8, std::int64_t out_h, std::int64_t out_w, PilFilter filter,
                            Span rows, Span columns) {
  TORCH_CHECK(hwc_u8.dim() == 3 && hwc_u8.scalar_type() == torch::kUInt8 && hwc_u8.size(2) >= 1 &&
                  hwc_u8.size(2) <= 4,
              "resize_pil expects uint8 [H,W,C] with 1 to 4 channels, got ", hwc_u8.scalar_type(), " ",
              hwc_u8.sizes());
  TORCH_CHECK(out_h > 0 && out_w > 0, "resize_pil: output size must be positive, got ", out_h, "x", out_w);
  const torch::Tensor image = hwc_u8.to(torch::kCPU).contiguous();
  // Horizontal first, then vertical, each rounded to 8 bits: the order changes the result. A pass whose size
  // does not change is skipped, as in PIL.
  const bool resample_w = out_w != image.size(1), resample_h = out_h != image.size(0);
  Taps vertical;
  Span read = rows;  // the input rows the vertical pass reads
  if (resample_h) {
    vertical = pil_taps(image.size(0), out_h, filter);
    read = {vertical.first[rows.begin], 0};
    for (std::int64_t y = rows.begin; y < rows.end; ++y) {
      read.end = std::max(read.end, vertical.first[y] + vertical.count[y]);
    }
  }
  const auto window = [&](Span image_rows) {
    return image.slice(0, image_rows.begin, image_rows.end).slice(1, columns.begin, columns.end);
  };
  if (!resample_w && !resample_h) return window(rows).clone();
  const torch::Tensor across = resample_w
                                   ? resample_horizontal(image, pil_taps(image.size(1), out_w, filter), read, columns)
                                   : window(read).contiguous();
  return resample_h ? resample_vertical(across, vertical, rows, read.begin) : across;
}

// Python's round(d / 2) for d >= 0: halves go to the even neighbour.
std::int64_t half_rounded_to_even(std::int64_t d) {
  const std::int64_t q = d / 2;
  return d % 2 == 1 && q % 2 == 1 ? q + 1 : q;
}

}  // namespace

torch::Tensor resize_pil(const torch::Tensor& hwc_u8, std::int64_t out_h, std::int64_t out_w, PilFilter filter) {
  return resize_window(hwc_u8, out_h, out_w, filter, {0, out_h}, {0, out_w});
}

torch::Tensor clip_resize_center_crop(const torch::Tensor& hwc_u8, std::int64_t size) {
  TORCH_CHECK(hwc_u8.dim() == 3, "clip_resize_center_crop expects [H,W,C], got ", hwc_u8.sizes());
  const std::int64_t h = hwc_u8.size(0), w = hwc_u8.size(1);
  // torchvision: the shorter side becomes `size`, the longer int(size * long / short) (truncated).
  const std::int64_t longer = size * std::max(h, w) / std::min(h, w);
  const std::int64_t new_h = w <= h ? longer : size, new_w = w <= h ? size : longer;
  const std::int64_t top = half_rounded_to_even(new_h - size), left = half_rounded_to_even(new_w - size);
  return resize_window(hwc_u8, new_h, new_w, PilFilter::bicubic, {top, top + size}, {left, left + size});
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
