// The weight-free guidance encoder of the quickstart (`--clip photometric`): an embedding of an image's
// photometric statistics in place of CLIP's image tower. RAVE only needs an embedding in which the well-lit and
// backlit sets sit in different directions and the way from one to the other is smooth; exposure statistics have
// exactly that property, need no download, and are differentiable, so RAVE's residual vector and loss
// (guidance/residual.h, losses.h) work on them unchanged.
//
// An image is first reduced to a 64x64 working picture by area averaging (so the embedding does not depend on
// the image size, and the file path of the residual pass and the loss path agree). The embedding concatenates:
//   soft cumulative luminance histograms (12 thresholds) of the pixels and of 4x4 and 16x16 block means: how
//     much of the picture, and how much of it in large areas, is darker than each level;
//   the 4x4 layout of mean luminance: where the dark areas are (a backlit picture is dark at the bottom);
//   per-channel means and spreads;
//   local contrast at two scales and colourfulness: both shrink with under-exposure;
//   the share of pixels with lost detail (crushed shadows or blown highlights), overall and on the 4x4 layout:
//     it makes over-exposure as un-well-lit as under-exposure.
// Each group is centred on a neutral reference (a uniform luminance distribution, mid-grey layout and means;
// the other statistics are zero for a flat picture anyway) and weighted to a comparable size, because RAVE
// normalises embeddings: only their direction counts, and a large constant offset would squeeze every picture
// into a narrow cone.
#pragma once

#include "guidance/encoders.h"

namespace rave::guidance {

class PhotometricEncoder : public GuidanceEncoder {
 public:
  static constexpr int64_t kWorkingSize = 64;
  static constexpr int64_t kBins = 12;

  std::string name() const override { return "photometric"; }
  int64_t dim() const override;
  // Images [B,3,H,W] in [0,1] (any floating dtype) -> [B, dim()].
  torch::Tensor embed(const torch::Tensor& images) override;
  // uint8 [H,W,3] -> float32 [3,64,64], the working picture.
  torch::Tensor preprocess_file_image(const torch::Tensor& hwc_u8) const override;
  // Working pictures [B,3,64,64] (other sizes are reduced first) -> [B, dim()].
  torch::Tensor encode(const torch::Tensor& preprocessed) override;
  void to(const torch::Device&) override {}  // no parameters: constants follow the input's device
};

}  // namespace rave::guidance
