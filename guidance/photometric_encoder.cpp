#include "guidance/photometric_encoder.h"

#include <torch/torch.h>

#include "core/error.h"
#include "io/image.h"

namespace rave::guidance {
namespace {

namespace F = torch::nn::functional;

// Floor under variances before a square root: keeps the gradient finite for flat pictures.
constexpr double kVarianceFloor = 1e-6;
constexpr int64_t kLayout = 4;  // the luminance layout is kLayout x kLayout
// Group weights, chosen so that the groups move the embedding's direction by comparable amounts between the
// backlit and well-lit sets of `rave synth` (contrast and colourfulness are small numbers, hence larger weights).
constexpr double kHistogramWeight = 2.0;
constexpr double kLayoutWeight = 1.0;
constexpr double kChannelWeight = 1.0;
constexpr double kContrastWeight = 6.0;
constexpr double kColourfulnessWeight = 4.0;
constexpr double kLostDetailWeight = 3.0;

torch::Tensor working_picture(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw Error("photometric encoder: expected images [B,3,H,W], got " + c10::str(images.sizes()));
  }
  return F::adaptive_avg_pool2d(images, F::AdaptiveAvgPool2dFuncOptions({PhotometricEncoder::kWorkingSize,
                                                                         PhotometricEncoder::kWorkingSize}));
}

// BT.601 luma, [B,3,h,w] -> [B,1,h,w].
torch::Tensor luminance(const torch::Tensor& rgb) {
  return 0.299 * rgb.narrow(1, 0, 1) + 0.587 * rgb.narrow(1, 1, 1) + 0.114 * rgb.narrow(1, 2, 1);
}

// Soft cumulative histogram of [B,1,h,w] values in [0,1] -> [B,kBins]: the share of values below each of kBins
// evenly spaced thresholds, with a logistic step (width 1/3 bin) instead of a hard one so that it moves smoothly
// as values move. Cumulative rather than a density: brightening any pixel lowers every entry, so the response to
// exposure is monotonic and the guidance cannot get stuck where darkening would look "less backlit".
torch::Tensor soft_cumulative_histogram(const torch::Tensor& y) {
  const int64_t bins = PhotometricEncoder::kBins;
  const torch::Tensor thresholds = ((torch::arange(bins, y.options()) + 0.5) / double(bins)).view({1, bins, 1, 1});
  return torch::sigmoid((thresholds - y) * (3.0 * double(bins))).mean({2, 3});
}

torch::Tensor block_means(const torch::Tensor& x, int64_t block) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(block));
}

// Cell means of a [B,1,h,w] map on the kLayout x kLayout grid, [B,kLayout^2].
torch::Tensor layout(const torch::Tensor& map) {
  return F::adaptive_avg_pool2d(map, F::AdaptiveAvgPool2dFuncOptions({kLayout, kLayout})).flatten(1);
}

// Mean absolute difference between a picture and its 3x3 local mean, [B,1,h,w] -> [B,1].
torch::Tensor local_contrast(const torch::Tensor& y) {
  const torch::Tensor local = F::avg_pool2d(y, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false));
  return (y - local).abs().mean({2, 3});
}

// The share of pixels whose detail is lost, crushed into the shadows (luma below ~0.1) or blown out (above ~0.97),
// soft-thresholded: [B,1,h,w] -> [B,1] overall and [B,kLayout^2] per cell of the layout. A backlit picture loses
// its foreground to the shadows; an over-brightened one loses everything to the highlights. Counting both in one
// number makes the two look alike along the residual vector, so the RAVE loss stops pushing at the right
// exposure instead of rewarding ever brighter pictures (the sky is shared by both sets and would not be seen).
torch::Tensor lost_detail(const torch::Tensor& y) {
  const torch::Tensor lost = torch::sigmoid((0.1 - y) / 0.02) + torch::sigmoid((y - 0.97) / 0.01);
  return torch::cat({lost.mean({2, 3}), layout(lost)}, 1);
}

}  // namespace

int64_t PhotometricEncoder::dim() const {
  return 3 * kBins + kLayout * kLayout + 3 + 3 + 2 + 1 + (1 + kLayout * kLayout);
}

torch::Tensor PhotometricEncoder::embed(const torch::Tensor& images) { return encode(images); }

torch::Tensor PhotometricEncoder::preprocess_file_image(const torch::Tensor& hwc_u8) const {
  return working_picture(io::to_float_chw(hwc_u8).unsqueeze(0)).squeeze(0);
}

torch::Tensor PhotometricEncoder::encode(const torch::Tensor& preprocessed) {
  const torch::Tensor x = working_picture(preprocessed);
  const torch::Tensor y = luminance(x);
  // Relative to a uniform distribution of luminance, whose cumulative histogram is the threshold itself.
  const torch::Tensor uniform = (torch::arange(kBins, y.options()) + 0.5) / double(kBins);
  const torch::Tensor histograms = torch::cat({soft_cumulative_histogram(y) - uniform,
                                               soft_cumulative_histogram(block_means(y, 4)) - uniform,
                                               soft_cumulative_histogram(block_means(y, 16)) - uniform},
                                              1);
  const torch::Tensor mean = x.mean({2, 3});
  const torch::Tensor spread = ((x - mean.unsqueeze(-1).unsqueeze(-1)).square().mean({2, 3}) + kVarianceFloor).sqrt();
  const torch::Tensor contrast = torch::cat({local_contrast(y), local_contrast(block_means(y, 4))}, 1);
  // Colourfulness: the spread of the three channels at each pixel, averaged.
  const torch::Tensor colourfulness = (x.var(1, /*unbiased=*/false) + kVarianceFloor).sqrt().mean({1, 2}).unsqueeze(1);
  return torch::cat({kHistogramWeight * histograms, kLayoutWeight * (layout(y) - 0.5), kChannelWeight * (mean - 0.5),
                     kChannelWeight * spread, kContrastWeight * contrast, kColourfulnessWeight * colourfulness,
                     kLostDetailWeight * lost_detail(y)},
                    1);
}

}  // namespace rave::guidance
