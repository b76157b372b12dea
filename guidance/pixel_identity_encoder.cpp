#include "guidance/pixel_identity_encoder.h"

#include <torch/torch.h>

#include "core/error.h"

namespace rave::guidance {
namespace {

namespace F = torch::nn::functional;

// Forward differences, padded by repeating the last row / column (a zero difference there) so that they keep
// the picture's size and can be stacked with it as channels.
torch::Tensor gradients(const torch::Tensor& x) {
  const torch::Tensor dx = F::pad(x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1),
                                  F::PadFuncOptions({0, 1, 0, 0}));
  const torch::Tensor dy = F::pad(x.narrow(2, 1, x.size(2) - 1) - x.narrow(2, 0, x.size(2) - 1),
                                  F::PadFuncOptions({0, 0, 0, 1}));
  return torch::cat({dx, dy}, 1);
}

}  // namespace

std::vector<torch::Tensor> PixelIdentityEncoder::taps(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw Error("pixel identity encoder: expected images [B,3,H,W], got " + c10::str(images.sizes()));
  }
  std::vector<torch::Tensor> out;
  torch::Tensor level =
      kTapScale * F::adaptive_avg_pool2d(images, F::AdaptiveAvgPool2dFuncOptions({kFinestSize, kFinestSize}));
  for (int k = 0; k < kTaps; ++k) {
    if (k > 0) level = F::avg_pool2d(level, F::AvgPool2dFuncOptions(2));
    out.push_back(torch::cat({level, gradients(level)}, 1));
  }
  return out;
}

}  // namespace rave::guidance
