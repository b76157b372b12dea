// The weight-free identity encoder of the quickstart (`--clip-identity pixels`): five feature taps made of the
// picture itself, in place of the stem and layer1..layer4 outputs of CLIP's RN101. The identity loss asks the
// enhanced image to keep the input's content; without a network, content is the pixels and their edges at
// several scales. Tap k is the picture area-averaged to 128 / 2^k pixels (128, 64, 32, 16, 8; fixed sizes, as
// CLIP's 224x224 input, so the loss does not depend on the image size) with its horizontal and vertical finite
// differences appended as channels: [B, 9, s, s]. Fine taps see texture and edges, coarse ones colour and layout;
// the last (weight 0.5 in the identity distance) is the 8x8 colour layout.
#pragma once

#include "guidance/encoders.h"

namespace rave::guidance {

class PixelIdentityEncoder : public IdentityEncoder {
 public:
  static constexpr int64_t kFinestSize = 128;
  static constexpr int kTaps = 5;
  // Pixel values in [0,1] are small next to RN101's activations: unscaled, RAVE's guidance term (weight 6 x 320)
  // outweighs the identity term so far that the enhancer brightens regions the guidance is indifferent to (the
  // sky of the synthetic scenes) until they clip white, where the clamp leaves no gradient to undo it. Scaled
  // taps give the identity loss the weight that keeps such regions as they are.
  static constexpr double kTapScale = 8.0;

  std::string name() const override { return "pixels"; }
  // Images [B,3,H,W] in [0,1] (any floating dtype) -> five maps [B,9,128/2^k,128/2^k].
  std::vector<torch::Tensor> taps(const torch::Tensor& images) override;
  void to(const torch::Device&) override {}  // no parameters
};

}  // namespace rave::guidance
