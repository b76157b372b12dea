#include "io/augment.h"

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace rave::io {

double uniform01(dist::SplitMix64& rng) { return double(rng.next() >> 11) * 0x1.0p-53; }

AugmentDraws draw_augmentation(dist::SplitMix64& rng, const AugmentRanges& ranges) {
  AugmentDraws d;
  d.hflip = uniform01(rng) < 0.5;
  d.vflip = uniform01(rng) < 0.5;
  d.transpose = uniform01(rng) < 0.5;
  d.rotate = uniform01(rng) < 0.3;
  d.zoom = uniform01(rng) < 0.3;
  d.angle = 180 * uniform01(rng) - 90;
  if (d.zoom || ranges.always_draw_zoom) {
    const double span = ranges.zoom_max - ranges.zoom_min;
    d.zoom_x = ranges.zoom_min + span * uniform01(rng);
    d.zoom_y = ranges.zoom_min + span * uniform01(rng);
  }
  return d;
}

cv::Mat augment(const cv::Mat& image, const AugmentDraws& draws) {
  if (image.empty() || image.type() != CV_8UC3) {
    throw Error("augment: expected a non-empty 8-bit 3-channel image");
  }
  cv::Mat out = image.clone();
  if (draws.hflip) cv::flip(out, out, 1);
  if (draws.vflip) cv::flip(out, out, 0);
  if (draws.transpose) cv::transpose(out, out);
  if (draws.zoom) {
    // Forward map x' = z (x - o) + o about o = S/2 + 0.5. The reference takes the x offset from the row count
    // and the y offset from the column count; for the square images it sees they are the same.
    const double ox = out.rows / 2.0 + 0.5, oy = out.cols / 2.0 + 0.5;
    const cv::Matx23d forward(draws.zoom_x, 0, ox * (1 - draws.zoom_x), 0, draws.zoom_y, oy * (1 - draws.zoom_y));
    cv::warpAffine(out, out, forward, out.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
  }
  if (draws.rotate) {
    const cv::Point2f centre(float(out.cols / 2), float(out.rows / 2));  // integer division, as the reference
    cv::warpAffine(out, out, cv::getRotationMatrix2D(centre, draws.angle, 1.0), out.size(), cv::INTER_LINEAR,
                   cv::BORDER_REFLECT);
  }
  return out;
}

torch::Tensor augment(const torch::Tensor& hwc_u8, const AugmentDraws& draws) {
  if (hwc_u8.dim() != 3 || hwc_u8.size(2) != 3 || hwc_u8.scalar_type() != torch::kUInt8) {
    throw Error("augment: expected a uint8 [H,W,3] tensor, got " + std::string(c10::toString(hwc_u8.scalar_type())) +
                " " + c10::str(hwc_u8.sizes()));
  }
  const torch::Tensor input = hwc_u8.contiguous();
  const cv::Mat view(int(input.size(0)), int(input.size(1)), CV_8UC3, input.data_ptr());
  const cv::Mat out = augment(view, draws);
  return torch::from_blob(out.data, {out.rows, out.cols, 3}, torch::kUInt8).clone();
}

}  // namespace rave::io
