// The two frozen encoders a training run uses, behind interfaces so that the weight-free stand-ins of the
// quickstart plug in exactly where CLIP does:
//   GuidanceEncoder  images -> embedding space of the guidance (CLIP ViT image tower: Φv; or "photometric");
//   IdentityEncoder  images -> the five feature taps of the identity loss (CLIP RN: Ψ0..Ψ4; or "pixels").
// Both take images in [0,1] and do their own preprocessing, and both are differentiable in the images.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace rave::guidance {

class GuidanceEncoder {
 public:
  virtual ~GuidanceEncoder() = default;
  // What the checkpoint records ("clip ViT-B-32.pt", "photometric", ...).
  virtual std::string name() const = 0;
  virtual int64_t dim() const = 0;
  // The loss path: enhanced images [B,3,H,W] in [0,1] -> raw (un-normalised) embeddings [B,D]. For CLIP this is
  // variant A (224x224 bilinear squash, CLIP normalisation) then the image tower.
  virtual torch::Tensor embed(const torch::Tensor& images) = 0;
  // The residual pass works on decoded files: uint8 [H,W,3] -> one preprocessed image of a fixed size (for CLIP
  // variant B: bicubic short side 224, centre crop, normalisation), batched for encode().
  virtual torch::Tensor preprocess_file_image(const torch::Tensor& hwc_u8) const = 0;
  virtual torch::Tensor encode(const torch::Tensor& preprocessed) = 0;
  virtual void to(const torch::Device& device) = 0;
};

class IdentityEncoder {
 public:
  virtual ~IdentityEncoder() = default;
  virtual std::string name() const = 0;
  // Images [B,3,H,W] in [0,1] -> five feature maps [B,C_k,h_k,w_k] (for CLIP RN: variant A, then the stem and
  // layer1..layer4 outputs of the modified ResNet).
  virtual std::vector<torch::Tensor> taps(const torch::Tensor& images) = 0;
  virtual void to(const torch::Device& device) = 0;
};

// `spec` is a CLIP file (.pt archive or .h5 state file with a ViT image tower) or "photometric".
std::unique_ptr<GuidanceEncoder> make_guidance_encoder(const std::string& spec);
// `spec` is a CLIP file with a modified-ResNet image tower (RN101.pt, ...) or "pixels".
std::unique_ptr<IdentityEncoder> make_identity_encoder(const std::string& spec);

}  // namespace rave::guidance
