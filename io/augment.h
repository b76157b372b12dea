// The geometric augmentation shared by every training loader (ALGORITHMS §3.3): random flips, a transpose
// (with the flips: the 8 dihedral transforms), an optional anisotropic zoom and an optional rotation, on
// 8-bit H x W x 3 images. The draws come first and separately, so that one set of draws can be applied to
// every image of a tuple (the margin loader) and so that they are reproducible from (seed, stream).
#pragma once

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <cstdint>

#include "dist/random.h"

namespace rave::io {

struct AugmentRanges {
  double zoom_min = 0.7;  // 0.7-1.3 for the enhancer loader, 0.5-1.5 for the guidance datasets
  double zoom_max = 1.3;
  bool always_draw_zoom = false;  // the margin loader draws zoom factors even when zoom is off
};

struct AugmentDraws {
  bool hflip = false;
  bool vflip = false;
  bool transpose = false;
  bool rotate = false;
  bool zoom = false;
  double angle = 0;  // degrees, counter-clockwise as displayed
  double zoom_x = 1;
  double zoom_y = 1;
};

// A uniform double in [0, 1) from the top 53 bits of the generator.
double uniform01(dist::SplitMix64& rng);

// Draws in the reference's order: hflip (p 0.5), vflip (0.5), transpose (0.5), rotate (0.3), zoom (0.3),
// angle U(-90, 90), then the two zoom factors.
AugmentDraws draw_augmentation(dist::SplitMix64& rng, const AugmentRanges& ranges = {});

// Applies the draws in the fixed order flip, flip, transpose, zoom, rotation. Zoom and rotation are
// bilinear affine warps with the symmetric border (edge pixel repeated), as OpenCV's BORDER_REFLECT.
cv::Mat augment(const cv::Mat& image, const AugmentDraws& draws);
// The same on a uint8 [H,W,3] tensor (the layout of io/image.h), returning a new tensor.
torch::Tensor augment(const torch::Tensor& hwc_u8, const AugmentDraws& draws);

}  // namespace rave::io
