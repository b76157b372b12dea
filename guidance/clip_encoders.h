// CLIP's image towers as the guidance encoder (ViT: Φv) and the identity encoder (modified ResNet: Ψ0..Ψ4).
#pragma once

#include "guidance/encoders.h"
#include "models/clip/clip_model.h"

namespace rave::guidance {

class ClipGuidanceEncoder : public GuidanceEncoder {
 public:
  ClipGuidanceEncoder(models::ClipModel model, std::string source);
  std::string name() const override { return "clip " + source_; }
  int64_t dim() const override;
  torch::Tensor embed(const torch::Tensor& images) override;
  torch::Tensor preprocess_file_image(const torch::Tensor& hwc_u8) const override;
  torch::Tensor encode(const torch::Tensor& preprocessed) override;
  void to(const torch::Device& device) override { model_->to(device); }
  models::ClipModel& model() { return model_; }

 private:
  models::ClipModel model_;
  std::string source_;
};

class ClipIdentityEncoder : public IdentityEncoder {
 public:
  ClipIdentityEncoder(models::ClipModel model, std::string source);
  std::string name() const override { return "clip " + source_; }
  std::vector<torch::Tensor> taps(const torch::Tensor& images) override;
  void to(const torch::Device& device) override { model_->to(device); }

 private:
  models::ClipModel model_;
  std::string source_;
};

}  // namespace rave::guidance
